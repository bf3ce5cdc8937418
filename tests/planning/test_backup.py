"""`manage.py backup` / `restore` (PostgreSQL): a fresh database restored from a backup has every entry, every
history row and every uploaded file, byte for byte."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.conftest import make_user
from tests.reliability.harness import ROOT, database_url

pytestmark = pytest.mark.postgres

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def on_disk(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploaded files on disk (the test settings keep them in memory), in a directory of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return settings.MEDIA_ROOT


@pytest.fixture
def fresh_database():  # type: ignore[no-untyped-def]
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = database_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql).fetchall())


def test_a_backup_restores_into_a_fresh_database_with_everything(
    live_plan, on_disk, fresh_database, tmp_path, figure
) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import (
        IndicatorValueInput,
        indicator_value_approve,
        indicator_value_create,
        indicator_value_submit,
    )
    from planning.models import Plan
    from regions.models import Region

    alice = make_user("alice", "填报员", units=("市教育局",))
    carol = make_user("carol", "审核员", units=("市教育局",))
    plan = Plan.objects.get(code="leshan-edu-14fyp")
    for number, region in ((2, "511100"), (7, "511100"), (7, "511129")):
        entry = indicator_value_create(
            indicator=plan.indicators.get(number=number),
            region=Region.objects.get(code=region),
            year=2024,
            user=alice,
            data=IndicatorValueInput(value="95.5", source="统计年报", note="备份测试"),
            files=[SimpleUploadedFile("年报.pdf", PDF), SimpleUploadedFile("照片.png", PNG)],
        )
        entry = indicator_value_submit(value=entry, user=alice)
        indicator_value_approve(value=entry, user=carol)

    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    archives = sorted((tmp_path / "backups").glob("tracker-backup-*.tar.gz"))
    assert len(archives) == 1
    archive = archives[0]

    source = database_url()
    target = database_url().rsplit("/", 1)[0] + "/" + fresh_database
    restored_media = tmp_path / "restored-media"
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": target,
            "MEDIA_ROOT": str(restored_media),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "均与备份一致" in result.stdout

    checks = {
        "values": "SELECT id, indicator_id, region_id, year, value, status, version, approved_value, note"
        " FROM indicators_indicatorvalue ORDER BY id",
        "history": "SELECT history_id, id, version, status, history_change_reason, history_user_id, history_date"
        " FROM indicators_historicalindicatorvalue ORDER BY history_id",
        "evidence": "SELECT id, entry_id, file, original_name FROM indicators_indicatorvalueevidence ORDER BY id",
        "users": "SELECT id, username, password FROM auth_user ORDER BY id",
        "plan": "SELECT count(*) FROM indicators_indicator",
    }
    for name, sql in checks.items():
        assert rows(target, sql) == rows(source, sql), name
    evidence = rows(source, checks["evidence"])
    assert len(evidence) == 6
    for _, _, path, _ in evidence:
        assert (restored_media / str(path)).read_bytes() == (Path(on_disk) / str(path)).read_bytes()

    # Restoring over a database that is not empty is refused unless --replace says so.
    again = subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": target},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode != 0 and "目标数据库不是空的" in again.stderr
    figure(
        "备份并恢复到新数据库",
        tables=len(rows(source, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")),
        entries=len(rows(source, checks["values"])),
        history_rows=len(rows(source, checks["history"])),
        files=len(evidence),
        rows_or_files_missing=0,
        archive_bytes=archive.stat().st_size,
    )
