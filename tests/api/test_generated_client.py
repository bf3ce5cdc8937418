"""A client generated from /api/schema/ by openapi-python-client imports whole and works against a live server.

openapi-python-client is a dev dependency (requirements-dev.lock), so this runs wherever the tests do.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from rest_framework.test import APIClient

from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("today_2026")

PACKAGE = "tracker_api_client"


@pytest.fixture
def generated(live_server, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated from the live server's schema into a temporary directory."""
    schema = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert schema.status_code == 200, schema.text[:300]
    (tmp_path / "schema.json").write_bytes(schema.content)
    # No post-hooks: the generator would otherwise run ruff over its output, which the test does not need.
    (tmp_path / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n", encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Warnings name the parts of the schema the generator had to skip.
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation_modules(package: ModuleType) -> dict[str, ModuleType]:
    """Every generated operation module, imported (an import error fails the test with its name)."""
    api = importlib.import_module(f"{package.__name__}.api")
    modules = {}
    for info in pkgutil.walk_packages(api.__path__, prefix=f"{api.__name__}."):
        if not info.ispkg:
            modules[info.name.rsplit(".", 1)[-1]] = importlib.import_module(info.name)
    return modules


@pytest.mark.django_db
def test_request_bodies_are_json_and_only_uploads_are_multipart() -> None:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    bodies = {
        f"{method.upper()} {path}": list(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert bodies
    for name, types in bodies.items():
        expected = ["multipart/form-data"] if name.endswith("/evidence/") else ["application/json"]
        assert types == expected, name


def test_a_generated_client_reads_and_writes(live_plan, generated, live_server, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import Plan
    from regions.models import Region

    modules = operation_modules(generated)
    assert len(modules) >= 39, sorted(modules)

    make_user("alice", "填报员", units=("市教育局",))
    plan = Plan.objects.get(code="leshan-edu-14fyp")
    rate, city = plan.indicators.get(number=2), Region.objects.get(code="511100")

    # A token through the generated client, as a program would get one.
    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token_request = importlib.import_module(f"{generated.__name__}.models.token_request_request")
    answer = modules["v1_auth_token_create"].sync_detailed(
        client=anonymous, body=token_request.TokenRequestRequest(username="alice", password="pw-alice")
    )
    assert answer.status_code == 200, answer.content[:300]
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=answer.parsed.token, prefix="Token", raise_on_unexpected_status=True
    )

    # One read: the indicators alice may see (those 市教育局 leads), typed.
    listed = modules["v1_indicators_list"].sync_detailed(client=client)
    assert listed.status_code == 200, listed.content[:300]
    assert listed.parsed.count > 0
    assert rate.pk in {indicator.id for indicator in listed.parsed.results}

    # One write: a draft value for the city, as in tests/api/test_api.py.
    create_request = importlib.import_module(f"{generated.__name__}.models.indicator_value_create_request")
    created = modules["v1_indicator_values_create"].sync_detailed(
        client=client,
        body=create_request.IndicatorValueCreateRequest(
            indicator=rate.pk, region=city.pk, year=2024, value="95.8", source="统计年报"
        ),
    )
    assert created.status_code == 201, created.content.decode()[:500]
    assert (created.parsed.status.value, created.parsed.version, created.parsed.value) == ("draft", 1, "95.8000")
    assert IndicatorValue.objects.get(pk=created.parsed.id).created_by.username == "alice"
    figure("生成的客户端", operations=len(modules), server_errors=0)
