"""Project-wide API conventions: pagination, exact decimals in, and errors translated from the services."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.exceptions import ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from config.security import csrf_failure_message
from planning.entries import DuplicateEntry
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


# A JSON string, escaped quotes included. Its closing quote is optional, so an unterminated string ends the scan
# instead of being retried from every later quote: linear time whatever the input.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text`, without parsing it: no recursion, linear time.

    Strings are dropped first, so brackets and escaped quotes inside them do not count. Where the text is not
    JSON the figure may be off, but only past the point where json.loads fails anyway.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _read_at_most(stream: Any, size: int) -> bytes:
    """Up to `size` bytes: a stream may return fewer than asked for before its end."""
    chunks: list[bytes] = []
    while size > 0 and (chunk := stream.read(size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


class DecimalJSONParser(JSONParser):
    """Numbers arrive as Decimal, never float: 95.6 stays 95.6.

    Bodies larger than settings.API_MAX_JSON_BYTES or nested deeper than settings.API_MAX_JSON_DEPTH are refused
    before json.loads sees them (it recurses once per level: ~1,000 levels in 2 KB would exhaust the stack).
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", "utf-8")
        max_bytes, max_depth = settings.API_MAX_JSON_BYTES, settings.API_MAX_JSON_DEPTH
        raw = _read_at_most(stream, max_bytes + 1)
        if len(raw) > max_bytes:
            raise ParseError(
                _("请求内容过大：JSON 请求体不能超过 %(limit)s 字节。") % {"limit": f"{max_bytes:,}"},
                code="too_large",
            )
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(
                _("请求内容不是有效的 JSON：无法按 %(encoding)s 编码读取。") % {"encoding": encoding}
            ) from exc
        if json_depth(text) > max_depth:
            raise ParseError(_("JSON 嵌套层数过多：最多 %(limit)d 层。") % {"limit": max_depth}, code="too_deep")
        try:
            return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ParseError(
                _("请求内容不是有效的 JSON（第 %(line)d 行第 %(column)d 列附近有误）。")
                % {"line": exc.lineno, "column": exc.colno}
            ) from exc
        except (ValueError, RecursionError) as exc:  # NaN/Infinity, integers too long to convert, a stack limit
            raise ParseError(_("请求内容不是有效的 JSON：含有无法识别的数值或结构。")) from exc


def _messages(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The services' exceptions as HTTP answers: 404 scope, 403 not allowed, 409 conflicts, 400 bad input."""
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which names this module, when imported.
    from rest_framework.views import exception_handler as drf_exception_handler

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
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # DRF's SessionAuthentication says this in English.
        return Response({"detail": csrf_failure_message(), "code": "csrf_failed"}, status=status.HTTP_403_FORBIDDEN)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 404:
        response.data = {"detail": _("不存在，或不在您的查看范围内。"), "code": "not_found"}
    elif (
        response is not None
        and isinstance(exc, exceptions.APIException)
        and not isinstance(exc, exceptions.ValidationError)
        and isinstance(response.data, dict)
        and set(response.data) == {"detail"}
    ):
        response.data["code"] = exc.get_codes()  # DRF's own errors (401, 405, 406, 415, 429, bad JSON) name none
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
