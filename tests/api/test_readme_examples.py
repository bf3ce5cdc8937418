"""The README's API examples work as written, against a running server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_user

README = Path(__file__).resolve().parents[2] / "README.md"


def example(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, marker
    return match.group(1)


@pytest.fixture
def server_env(live_plan, live_server):  # type: ignore[no-untyped-def]
    from indicators.services import status_recompute_all

    make_user("leader", "领导")
    status_recompute_all()
    return {**os.environ, "TRACKER_URL": live_server.url, "TRACKER_USER": "leader", "TRACKER_PASSWORD": "pw-leader"}


def test_the_python_example(server_env) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-c", example("api-example-python")],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 16
    assert lines[6].startswith(" 7. 九年义务教育巩固率：未填报")


def test_the_shell_example(server_env) -> None:  # type: ignore[no-untyped-def]
    # The example's first line sets the variables for a reader; here the test's environment provides them.
    script = "\n".join(line for line in example("api-example-shell").splitlines() if not line.startswith("export "))
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script], env=server_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 16
    assert lines[0].startswith("1 学前教育幼儿数")
