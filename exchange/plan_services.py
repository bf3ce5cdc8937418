"""The 规划管理 page's writes: keep an uploaded plan workbook, preview it (a dry run), and import it on confirmation.

An upload is kept in the default storage under a random name and known to the administrator's session only, so a
preview can be confirmed by the person who made it and nobody else; confirming reads the kept file again and
imports it whole or not at all (exchange.plan_workbook.plan_import).
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from planning.models import Role
from planning.roles import has_role
from planning.workflow import NotAllowed, NotInScope, TransitionError

from .plan_workbook import PlanImport, plan_import
from .reader import ImportProblem

SESSION_KEY = "plan_imports"
KEPT = 5  # uploads remembered per session; older ones (and their files) are dropped


def plans_authorize(user: User) -> None:
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以管理规划。"))


def _state(result: PlanImport) -> str:
    if not result.ok:
        return "rejected"
    return "previewed" if result.written or result.created_plan else "unchanged"


def plan_upload_check(
    *,
    user: User,
    upload: UploadedFile,
    code: str,
    create_units: bool,
    session: MutableMapping[str, Any],
) -> str:
    """Keep the upload and preview it; returns the token of the preview."""
    plans_authorize(user)
    name = (upload.name or "plan.xlsx")[:200]
    token = secrets.token_hex(16)
    path = ""
    if (upload.size or 0) > settings.IMPORT_MAX_BYTES:
        limit = settings.IMPORT_MAX_BYTES // 1024 // 1024
        result = PlanImport(file_name=name, dry_run=True)
        result.problems.append(
            ImportProblem(
                "—",
                0,
                "—",
                _("文件为 %(size).1f MB，超过 %(limit)d MB 的上限。")
                % {"size": (upload.size or 0) / 1024 / 1024, "limit": limit},
            )
        )
    else:
        data = upload.read()
        result = plan_import(data, file_name=name, code=code or None, create_units=create_units, dry_run=True)
        if result.ok:
            path = default_storage.save(f"plan-imports/{token}.xlsx", ContentFile(data))
    records = dict(session.get(SESSION_KEY, {}))
    records[token] = {
        "name": name,
        "path": path,
        "code": code,
        "create_units": create_units,
        "state": _state(result),
        "summary": result.summary(),
        "result": {},
    }
    for old in list(records)[:-KEPT]:
        _forget(records.pop(old))
    session[SESSION_KEY] = records
    return token


def _forget(record: dict[str, Any]) -> None:
    if record.get("path"):
        default_storage.delete(record["path"])


def plan_upload_record(session: MutableMapping[str, Any], token: str) -> dict[str, Any]:
    record = session.get(SESSION_KEY, {}).get(token)
    if record is None:
        raise NotInScope()
    return dict(record)


def plan_upload_confirm(*, user: User, session: MutableMapping[str, Any], token: str) -> dict[str, Any]:
    """Import the previewed workbook for real: the kept file is read and checked again, then written whole."""
    plans_authorize(user)
    record = plan_upload_record(session, token)
    if record["state"] != "previewed":
        raise TransitionError(_("该文件不能导入（%(state)s）。") % {"state": record["state"]})
    with default_storage.open(record["path"], "rb") as handle:
        data = handle.read()
    result = plan_import(
        data,
        file_name=record["name"],
        code=record["code"] or None,
        create_units=record["create_units"],
        reason=f"后台：规划管理导入 {record['name']}",
    )
    record["state"] = "done" if result.ok else "failed"
    record["result"] = result.summary()
    if result.ok:
        _forget(record)
        record["path"] = ""
    records = dict(session.get(SESSION_KEY, {}))
    records[token] = record
    session[SESSION_KEY] = records
    return record
