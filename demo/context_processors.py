from typing import Any

from django.http import HttpRequest

from indicators.selectors import demo_present


def demo_banner(request: HttpRequest) -> dict[str, Any]:
    """Whether generated 演示数据 is present: every page then says so at the top."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"demo_data": False}
    return {"demo_data": demo_present()}
