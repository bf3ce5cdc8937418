"""`manage.py restore ARCHIVE [--replace]`: restore a backup and check it against its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning.backup import BackupError, restore


class Command(BaseCommand):
    help = "从备份归档恢复数据库和上传文件，并逐表、逐文件核对"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="manage.py backup 生成的 .tar.gz 文件")
        parser.add_argument("--replace", action="store_true", help="覆盖非空的数据库和上传文件目录")

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["archive"])
        if not archive.is_file():
            raise CommandError(f"找不到备份文件：{archive}")
        try:
            report = restore(archive, replace=options["replace"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if report.problems:
            raise CommandError("恢复后核对不一致：\n" + "\n".join(report.problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"已恢复并核对：{report.tables} 张数据表共 {report.rows} 行，{report.files} 个上传文件，均与备份一致。"
            )
        )
