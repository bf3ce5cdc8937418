"""`manage.py backup [--output DIR]`: one archive with the database and the uploaded files (see planning.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning.backup import BackupError, backup, read_manifest


class Command(BaseCommand):
    help = "备份数据库和上传文件到一个归档文件"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(settings.BASE_DIR / "var" / "backups"), help="备份目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            archive = backup(Path(options["output"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = read_manifest(archive)
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"已备份：{archive}（{archive.stat().st_size / 1e6:.1f} MB；"
                f"{len(manifest['tables'])} 张数据表共 {rows} 行，{len(manifest['media'])} 个上传文件）"
            )
        )
        self.stdout.write(str(archive))
