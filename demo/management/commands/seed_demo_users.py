"""`manage.py seed_demo_users`: one demo account per role with a realistic scope; passwords printed once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from planning.models import Role, Unit, UserScope
from planning.roles import ensure_role_groups
from regions.models import Region


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[Role, ...]
    units: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    superuser: bool = False
    note: str = field(default="")


DEMO_ACCOUNTS = [
    DemoAccount(
        "admin", "系统管理员（演示）", (Role.ADMIN,), superuser=True, note="后台维护规划、用户、范围、截止日期"
    ),
    DemoAccount("leader", "局领导（演示）", (Role.LEADER,), note="查看全部，不能修改"),
    DemoAccount(
        "edu_entry",
        "市教育局规划科填报员（演示）",
        (Role.ENTRY,),
        units=("市教育局",),
        note="填报市教育局牵头的指标（全市及各区县）和任务",
    ),
    DemoAccount(
        "edu_reviewer",
        "市教育局规划科审核员（演示）",
        (Role.REVIEWER,),
        units=("市教育局",),
        note="审核市教育局牵头的指标和任务",
    ),
    DemoAccount(
        "muchuan_entry", "沐川县教育局填报员（演示）", (Role.ENTRY,), regions=("沐川县",), note="填报沐川县的各项指标"
    ),
]


class Command(BaseCommand):
    help = "创建各角色的演示账号（含填报范围），仅在创建时打印一次密码。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset-passwords", action="store_true", help="为已存在的演示账号重新生成密码并打印")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        ensure_role_groups()
        user_model = get_user_model()
        printed = []
        for account in DEMO_ACCOUNTS:
            user = user_model.objects.filter(username=account.username).first()
            created = user is None
            if user is None:
                user = user_model(username=account.username)
            password = None
            if created or options["reset_passwords"]:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
            user.first_name = account.display_name
            user.is_staff = account.superuser or Role.ADMIN in account.roles
            user.is_superuser = account.superuser
            user.save()
            user.groups.set(Group.objects.filter(name__in=[r.value for r in account.roles]))
            scope, _created = UserScope.objects.get_or_create(user=user)
            scope.units.set(self._named(Unit, account.units))
            scope.regions.set(self._named(Region, account.regions))
            if password:
                printed.append((account, password))
        if not printed:
            self.stdout.write("演示账号已存在（密码只在创建时打印一次；需要时运行 make demo-users-reset 重新生成）。")
            return
        self.stdout.write(self.style.WARNING("演示账号（密码只显示这一次，请记下）："))
        for account, password in printed:
            roles = "、".join(str(r.label) for r in account.roles)
            self.stdout.write(f"  {account.username:<14} {password:<18} {roles}：{account.note}")

    @staticmethod
    def _named(model: Any, names: tuple[str, ...]) -> list[Any]:
        found = list(model.objects.filter(name__in=names))
        if len(found) != len(names):
            raise CommandError(f"演示账号引用的 {model._meta.verbose_name} 不存在：{names}（请先运行 load_plan）")
        return found
