"""Answers for refused logins, bad requests, CSRF failures and an unreachable database, in Chinese.

Under /api/ every answer is JSON of the API's shape, {"detail": "<中文说明>", "code": "<错误代码>"}; pages keep
their HTML templates.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import permission_denied as django_permission_denied
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


class ChoiceRefused(BadRequest):
    """A plan, region or year in a page's URL that cannot be shown; its message is shown on the 400 page."""


RETRY_AFTER_SECONDS = 30


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_error(detail: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def no_store(response: HttpResponse) -> HttpResponse:
    """Neither browsers nor proxies keep this answer (it holds a token, or answers a login): RFC 6749 §5.1."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


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
    return no_store(response)


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


def bad_request(request: HttpRequest, exception: Exception, template_name: str = "400.html") -> HttpResponse:
    """handler400: Django refused the request itself (too large, too many fields, a suspicious header)."""
    if not is_api(request):
        # Without the request: it may have been refused before the middleware set request.user. A page's own refusal
        # of a choice in its URL (config.views.request_choices) carries a message for the person.
        message = str(exception) if isinstance(exception, ChoiceRefused) else ""
        return HttpResponseBadRequest(render_to_string(template_name, {"message": message}))
    if isinstance(exception, RequestDataTooBig):
        limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"
        return api_error(_("请求内容过大：不能超过 %(limit)s 字节。") % {"limit": limit}, "too_large", 400)
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return api_error(_("请求中的字段或文件过多。"), "too_many_fields", 400)
    return api_error(_("请求无效，服务器无法处理。"), "bad_request", 400)


def permission_denied(request: HttpRequest, exception: Exception, template_name: str = "403.html") -> HttpResponse:
    """handler403 (the API's own refusals are answered by config.api.exception_handler)."""
    if is_api(request):
        return api_error(str(exception) or _("您没有执行此操作的权限。"), "permission_denied", 403)
    return django_permission_denied(request, exception, template_name)


def page_not_found(request: HttpRequest, exception: Exception, template_name: str = "404.html") -> HttpResponse:
    """handler404: also for /api/ paths that match no route, such as an id that is not a number."""
    if is_api(request):
        return api_error(_("不存在，或不在您的查看范围内。"), "not_found", 404)
    return django_page_not_found(request, exception, template_name)


def csrf_failure_message() -> str:
    return _(
        "CSRF 校验失败：以浏览器会话调用接口时，写操作须在请求头 X-CSRFToken 中附上 CSRF 令牌；"
        "也可改用 API 令牌（Authorization: Token <令牌>）。"
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's own check refused a form post (it logs the reason itself)."""
    if is_api(request):
        return api_error(csrf_failure_message(), "csrf_failed", 403)
    message = _("页面已过期或缺少安全校验信息（CSRF），请返回上一页，刷新后重新提交。")
    return render(request, "403.html", {"exception": message}, status=403)
