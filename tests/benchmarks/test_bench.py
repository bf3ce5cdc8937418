"""`manage.py bench` at a tiny scale: it runs end to end and its naive reference agrees with the SQL recompute."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("today_2026")]


def test_it_refuses_to_run_without_postgresql() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("this checks the SQLite refusal")
    with pytest.raises(CommandError, match="make bench 需要 PostgreSQL"):
        call_command("bench")


@pytest.mark.postgres
def test_it_measures_every_step_and_writes_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "benchmarks.md"
    call_command("load_plan", stdout=io.StringIO())  # as `make bench` does: the pages are compared with Leshan's
    call_command(
        "bench",
        sizes="3,6",
        regions=6,
        indicators=3,
        years=5,
        naive_values=40,
        page_requests=2,
        skip=["api", "chord"],
        output=str(output),
        stdout=io.StringIO(),
    )
    table = output.read_text(encoding="utf-8")
    for measured in (
        "全量重算 105 条数值",
        "逐行 ORM save()",
        "手写 SQL 下限",
        "无变化重算（各规模",
        "增量重算（各规模",
        "单序列增量重算",
        "页面 区域矩阵",
        "## 随规模的变化",
        "](benchmarks-scaling.png)",
    ):
        assert measured in table, measured
    # Both sizes measured, and the chart drawn beside the table.
    assert "| 60 | 3 |" in table and "| 105 | 6 |" in table
    assert (tmp_path / "benchmarks-scaling.png").read_bytes().startswith(b"\x89PNG")
    # The naive per-row path computes the same rows as the set-based statement, and a no-op writes nothing.
    assert "与本方案结果不同的行 0" in table
    assert "写入 0 行" in table
    assert "重算 0 个区域" in table  # the no-op skipped every region by its fingerprint
    assert "查询 " in table


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("options", "message"),
    [({"sizes": "3,x"}, "--sizes"), ({"skip": ["everything"]}, "--skip 只能是"), ({"regions": 0}, "--regions")],
)
def test_wrong_options_are_refused_in_chinese(options: dict[str, object], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("bench", **options)
