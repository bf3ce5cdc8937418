"""Backup and restore of everything people entered: the database and the uploaded files, in one archive.

An archive (`tracker-backup-<time>.tar.gz`) holds
- `database.dump` (PostgreSQL: `pg_dump --format=custom`) or `database.sqlite3` (SQLite: the online backup API),
- `media/`, the uploaded evidence, import files and generated reports,
- `manifest.json`: when and from what it was made, the row count of every table and the SHA-256 of every file,
  so a restore proves itself complete.
Restoring goes into an empty database (or replaces one with `replace=True`) and then checks both against the
manifest; any difference is an error, never a silent partial restore.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class BackupError(Exception):
    pass


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, args


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def table_counts() -> dict[str, int]:
    """Rows in every table of the database, read with plain SQL (history, join and Django tables included)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_files(root: Path) -> dict[str, dict[str, Any]]:
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _latest_migrations() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cursor.fetchall())


def backup(output_dir: Path) -> Path:
    """Write one archive into output_dir and return its path."""
    output_dir.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    archive = output_dir / f"tracker-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as work:
        staging = Path(work)
        # Counts first, dump second: a row written in between shows as a surplus at restore, never as a loss.
        counts = table_counts()
        if _is_postgres():
            env, args = _pg_env_and_args()
            dump = staging / "database.dump"
            name = str(settings.DATABASES["default"]["NAME"])
            result = subprocess.run(
                ["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump), name],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
            database_member = dump.name
        else:
            target = staging / "database.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(target) as copy:
                connection.connection.backup(copy)  # consistent even while the site writes
            database_member = target.name
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "engine": connection.vendor,
            "database": database_member,
            "migrations": _latest_migrations(),
            "tables": counts,
            "media": media_files(media_root),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(staging / MANIFEST, arcname=MANIFEST)
            tar.add(staging / database_member, arcname=database_member)
            if media_root.exists():
                tar.add(media_root, arcname="media")
        partial.rename(archive)  # a half-written archive never carries the final name
    return archive


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} 不是本系统的备份文件（缺少 {MANIFEST}）")
        manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"不支持的备份格式版本：{manifest.get('format')}")
    return manifest


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(archive: Path, *, replace: bool = False) -> RestoreReport:
    """Restore the archive into the configured database and MEDIA_ROOT, then verify against its manifest."""
    manifest = read_manifest(archive)
    if manifest["engine"] != connection.vendor:
        raise BackupError(f"备份来自 {manifest['engine']}，当前数据库是 {connection.vendor}，不能直接恢复")
    if not replace and not _database_is_empty():
        raise BackupError("目标数据库不是空的；恢复到新建的空数据库，或确认覆盖时加 --replace")
    media_root = Path(settings.MEDIA_ROOT)
    if not replace and media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"上传文件目录 {media_root} 不是空的；确认覆盖时加 --replace")

    with tempfile.TemporaryDirectory() as work, tarfile.open(archive, "r:gz") as tar:
        staging = Path(work)
        tar.extractall(staging, filter="data")  # refuses absolute paths, links out of the tree, devices
        database_file = staging / manifest["database"]
        if connection.vendor == "postgresql":
            connection.close()
            env, args = _pg_env_and_args()
            command = ["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
            if replace:
                command += ["--clean", "--if-exists"]
            command += ["--dbname", str(settings.DATABASES["default"]["NAME"]), str(database_file)]
            result = subprocess.run(command, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_restore 失败：{result.stderr.strip()}")
        else:
            connection.ensure_connection()
            with sqlite3.connect(database_file) as source:
                source.backup(connection.connection)
        if (staging / "media").exists():
            media_root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staging / "media", media_root, dirs_exist_ok=True)

    return verify(manifest)


def verify(manifest: dict[str, Any]) -> RestoreReport:
    report = RestoreReport()
    counts = table_counts()
    for table, expected in manifest["tables"].items():
        found = counts.get(table)
        if found is None:
            report.problems.append(f"缺少数据表 {table}")
        elif found < expected:
            report.problems.append(f"数据表 {table}：应有 {expected} 行，恢复后 {found} 行")
        report.tables += 1
        report.rows += found or 0
    files = media_files(Path(settings.MEDIA_ROOT))
    for name, expected_file in manifest["media"].items():
        found_file = files.get(name)
        if found_file is None:
            report.problems.append(f"缺少文件 {name}")
        elif found_file["sha256"] != expected_file["sha256"]:
            report.problems.append(f"文件内容不一致：{name}")
        else:
            report.files += 1
    return report
