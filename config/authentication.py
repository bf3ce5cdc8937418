"""API tokens (django-rest-knox): `Authorization: Token <令牌>`, stored hashed, valid until they expire or are revoked.

Kept apart from config/tokens.py (the views): DRF imports the authentication classes while it defines APIView, so
this module must not import rest_framework.views itself.
"""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework.exceptions import AuthenticationFailed

from config.statements import statement_objects


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check, reading only the presented token, and saying so when it has expired.

    knox reads all of the owner's tokens on every request to delete the expired ones, so a script that asks for a
    new token on every run would make each of its requests slower; here the owner's expired tokens are deleted
    when they next ask for one (config/tokens.py). Tokens are not renewed on use (REST_KNOX["AUTO_REFRESH"] is off).
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        invalid = AuthenticationFailed(_("令牌无效或已撤销，请重新取得令牌。"))
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid from None
        digest = hash_token(key)
        prefix = key[: CONSTANTS.TOKEN_KEY_LENGTH]
        candidates = statement_objects(
            AuthToken,
            ("auth_token", prefix),  # every request of a client: its statement is kept (config/statements.py)
            lambda: AuthToken.objects.filter(token_key=prefix).select_related("user"),
        )
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=type(self), username=username, source="auth_token")
                raise AuthenticationFailed(_("令牌已过期，请重新取得令牌。"), code="token_expired")
            return self.validate_user(auth_token)
        raise invalid
