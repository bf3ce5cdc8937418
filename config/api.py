"""Project-wide API conventions: pagination, exact decimals in, and errors translated from the services."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from planning.services import DuplicateEntry
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class DecimalJSONParser(JSONParser):
    """Numbers arrive as Decimal, never float: 95.6 stays 95.6."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("请求内容不是有效的 JSON：%(error)s") % {"error": exc}) from exc


def _messages(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The services' exceptions as HTTP answers: 404 scope, 403 not allowed, 409 conflicts, 400 bad input."""
    if isinstance(exc, NotInScope):
        exc = Http404()
    elif isinstance(exc, NotAllowed):
        return Response(
            {"detail": str(exc) or _("无权执行此操作。"), "code": "not_allowed"}, status=status.HTTP_403_FORBIDDEN
        )
    elif isinstance(exc, DuplicateEntry):
        return Response(
            {"detail": exc.messages[0], "code": "duplicate", "existing_id": exc.existing.pk},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, ConflictError):
        return Response(
            {"detail": str(exc), "code": "conflict", "current": exc.current}, status=status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, TransitionError):
        return Response({"detail": str(exc), "code": "illegal_transition"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, DjangoValidationError):
        return Response(_messages(exc), status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, PermissionDenied) and str(exc):
        return Response({"detail": str(exc), "code": "permission_denied"}, status=status.HTTP_403_FORBIDDEN)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 404:
        response.data = {"detail": _("不存在，或不在您的查看范围内。"), "code": "not_found"}
    return response


# A field may itself be called "code" or "detail" (a 400 then lists its messages under that name).
_TEXT_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
ERROR_SCHEMA = {
    "type": "object",
    "description": "错误。400 时按字段给出中文说明（字段名 → 说明列表）；其他情况含 detail（说明）与 code（错误代码）。",
    "properties": {"detail": _TEXT_OR_LIST, "code": _TEXT_OR_LIST},
    "additionalProperties": True,
}
ERROR_RESPONSES = {
    "400": "输入有误（按字段给出中文说明）",
    "401": "未认证：请先取得令牌",
    "403": "无权执行此操作",
    "404": "不存在，或不在您的查看范围内",
    "409": "版本冲突、重复填报或当前状态不允许的操作",
    "415": "不支持的请求内容类型（请用 application/json）",
    "429": "请求过于频繁，请稍后再试",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the error answers every operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                if code in ("409", "415") and method == "get":
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
