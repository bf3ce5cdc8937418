"""Answers for refused logins and for a database that cannot be reached, in Chinese, for pages and the API."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """django-axes: too many failed logins for this username from this address."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("登录失败次数过多，该账号已在此地址暂时锁定，请 %(minutes)d 分钟后再试，或联系系统管理员解锁。") % {
        "minutes": minutes
    }
    if is_api(request):
        response: HttpResponse = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 while PostgreSQL is restarting: no database access here, not even for the page's context."""
    if is_api(request):
        response: HttpResponse = JsonResponse(
            {"detail": _("数据库暂时无法连接，请稍后重试。已保存的数据不受影响。"), "code": "database_unavailable"},
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: a lost database connection is a temporary 503, anything else the ordinary 500 page.

    Django calls this while handling the exception, so sys.exc_info() still names it.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("database unavailable: %s", exc)
        return database_unavailable_response(request)
    if is_api(request):
        return JsonResponse({"detail": _("服务器内部错误，已记录，请稍后重试。"), "code": "server_error"}, status=500)
    return django_server_error(request, template_name)
