from typing import Any

from django.http import HttpRequest

from .models import Role
from .roles import user_roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Role flags for the navigation bar (the roles are cached on the user for the request)."""
    roles = user_roles(request.user) if hasattr(request, "user") else frozenset()
    unread = 0
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        # The header's badge: the person's unread notifications (planning.Notification), one indexed count.
        unread = request.user.notifications.filter(read_at__isnull=True).count()
    return {
        "nav": {
            "entry": Role.ENTRY in roles,
            "reviewer": Role.REVIEWER in roles,
            "leader": Role.LEADER in roles,
            "admin": Role.ADMIN in roles,
            "staff": getattr(request.user, "is_staff", False),
            "roles": "、".join(str(r.label) for r in Role if r in roles),
            "section": request.resolver_match.url_name if request.resolver_match else "",
            "namespace": request.resolver_match.namespace if request.resolver_match else "",
            "unread": unread,
        }
    }
