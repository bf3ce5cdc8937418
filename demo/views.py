"""删除演示数据: the administrator's way to remove the generated data (what `manage.py remove_demo` does)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from planning.entry_views import current_user
from planning.models import Role
from planning.roles import has_role
from planning.workflow import Channel

from .services import demo_clear, demo_counts, demo_years


@login_required
def remove(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation with the counts; POST removes the demo rows and recomputes what they fed."""
    if not has_role(request.user, Role.ADMIN):
        raise PermissionDenied(_("只有管理员可以删除演示数据。"))
    back = "admin:index" if request.user.is_staff else "home"
    if request.method == "POST":
        result = demo_clear(user=current_user(request), channel=Channel.ADMIN)
        if result.values or result.progress:
            messages.success(
                request,
                _("已删除演示数据：指标数值 %(values)d 条、任务进展 %(progress)d 条；进度判定与预警已重新计算。")
                % {"values": result.values, "progress": result.progress},
            )
        else:
            messages.info(request, _("系统中没有演示数据，无需删除。"))
        return redirect(back)
    context = {
        **admin.site.each_context(request),
        "title": _("删除演示数据"),
        "counts": demo_counts(),
        "demo_years": demo_years(),
    }
    return render(request, "demo/remove.html", context)
