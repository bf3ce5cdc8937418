"""The admin's list of API tokens: who holds one, since when, until when; administrators revoke (delete) them.

Replaces knox's own admin, which shows hashes, an empty edit form and an "add" that hands out a token for anyone:
here a token is only ever issued to its owner, through the API with their password.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken


class AuthTokenAdmin(admin.ModelAdmin):
    list_display = fields = readonly_fields = ("owner", "key_start", "issued", "expires", "state")
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "token_key"]
    search_help_text = "按用户名、姓名或令牌开头查找"
    ordering = ["-created"]

    @admin.display(description="用户", ordering="user__username")
    def owner(self, token: AuthToken) -> str:
        name = token.user.get_full_name()
        return f"{token.user.get_username()}（{name}）" if name else token.user.get_username()

    @admin.display(description="令牌开头")
    def key_start(self, token: AuthToken) -> str:
        # The first characters only, which knox keeps in clear to find a token; they cannot be used to sign in.
        return f"{token.token_key[:8]}…"

    @admin.display(description="签发时间", ordering="created")
    def issued(self, token: AuthToken) -> datetime:
        return token.created

    @admin.display(description="到期时间", ordering="expiry")
    def expires(self, token: AuthToken) -> datetime | None:
        return token.expiry

    @admin.display(description="状态")
    def state(self, token: AuthToken) -> str:
        return "已过期" if token.expiry is not None and token.expiry <= timezone.now() else "有效"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuthToken | None = None) -> bool:
        return False


def register() -> None:
    if admin.site.is_registered(AuthToken):
        admin.site.unregister(AuthToken)
    admin.site.register(AuthToken, AuthTokenAdmin)
