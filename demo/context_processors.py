from typing import Any

from django.http import HttpRequest

from indicators.selectors import demo_present

from .services import demo_years


def demo_banner(request: HttpRequest) -> dict[str, Any]:
    """Whether generated 演示数据 is present: every page then says so at the top, with the years it covers."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"demo_data": False}
    present = demo_present()
    return {"demo_data": present, "demo_years": demo_years() if present else ""}
