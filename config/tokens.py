"""The API's tokens: username and password for a token, revoking it, revoking all of one's tokens.

Tokens are django-rest-knox's: only a hash is stored, each expires after settings.REST_KNOX["TOKEN_TTL"]
(API_TOKEN_DAYS), and administrators revoke anyone's in the admin. Every answer here, errors included, carries
Cache-Control: no-store (RFC 6749 §5.1), so no browser or proxy keeps a token.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiExample, extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import DecimalJSONParser
from config.authentication import TokenAuthentication
from config.security import no_store


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for config.authentication.TokenAuthentication (the name DRF's tokens had)."""

    target_class = "config.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名")
    # As the login page: a password is taken exactly as typed, spaces included.
    password = serializers.CharField(label="密码", style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="令牌：之后每个请求带请求头 `Authorization: Token <令牌>`。只在此显示一次（服务器只保存其散列值）。"
    )
    expiry = serializers.DateTimeField(help_text="到期时间；到期后需重新取得令牌。")


class NoStoreAPIView(APIView):
    parser_classes = [DecimalJSONParser]
    throttle_scope = "token"

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        # Every answer passes here, the errors DRF makes of exceptions (401, 405, 415, 429 …) included.
        return no_store(super().finalize_response(request, response, *args, **kwargs))


class TokenView(NoStoreAPIView):
    """POST: username and password for a new token. DELETE: revoke the token the request is made with."""

    def revokes(self) -> bool:
        return getattr(self.request, "method", None) == "DELETE"  # no request yet while the schema is generated

    def get_authenticators(self) -> list[Any]:
        # Revoking a token takes that very token. Asking for one takes no credentials (an expired token still in the
        # header must not get in the way), and neither does learning that a method is not allowed (405).
        return [TokenAuthentication()] if self.revokes() else []

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.revokes() else [AllowAny()]

    @extend_schema(
        summary="取得 API 令牌",
        description="用用户名和密码换取新令牌，之后在请求头中带 `Authorization: Token <令牌>`。令牌到期（默认 30 天，"
        "由 API_TOKEN_DAYS 设置）或被撤销后失效。连续登录失败会锁定该用户名在该地址的登录（429）。",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        examples=[
            OpenApiExample("登录", value={"username": "edu_entry", "password": "（您的密码）"}, request_only=True)
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Through the authentication backends, so django-axes counts failures and refuses a locked-out login.
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response({"non_field_errors": [_("用户名或密码不正确。")]}, status=status.HTTP_400_BAD_REQUEST)
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)

    @extend_schema(
        summary="撤销当前令牌",
        description="撤销本次请求所用的令牌（退出）；该用户的其他令牌不受影响。",
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeAllTokensView(NoStoreAPIView):
    """Revoke every token of the user the request's token belongs to."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="撤销本人的全部令牌",
        description="撤销当前用户的所有令牌（包括本次请求所用的令牌），例如令牌可能泄露时。之后需重新取得令牌。",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        AuthToken.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
