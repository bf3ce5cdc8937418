"""API tokens: issued for a username and password, never cached, stored hashed, expiring, revocable by their owner
and by an administrator."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.authentication import TokenAuthentication
from tests.config.test_settings import settings_in_subprocess
from tests.conftest import api_token, make_user

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REVOKE_ALL_URL = "/api/v1/auth/token/revoke-all/"
EXPIRED = "令牌已过期，请重新取得令牌。"
REVOKED = "令牌无效或已撤销，请重新取得令牌。"


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def assert_not_stored(response) -> None:  # type: ignore[no-untyped-def]
    assert response["Cache-Control"] == "no-store", response.status_code
    assert response["Pragma"] == "no-cache"


def sign_in(username: str = "alice", password: str = "pw-alice"):  # type: ignore[no-untyped-def]
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_a_token_for_a_username_and_password_is_not_cached_and_opens_the_api(alice) -> None:  # type: ignore[no-untyped-def]
    before = timezone.now()
    response = sign_in()
    assert response.status_code == 200
    assert_not_stored(response)
    body = response.json()
    assert set(body) == {"token", "expiry"}
    expiry = AuthToken.objects.get(user=alice).expiry
    assert before + timedelta(days=30) <= expiry <= timezone.now() + timedelta(days=30)
    assert body["expiry"] == expiry.astimezone(timezone.get_current_timezone()).isoformat()
    assert with_token(body["token"]).get("/api/v1/plans/").status_code == 200


def test_the_token_is_stored_only_as_a_hash(alice) -> None:  # type: ignore[no-untyped-def]
    token = sign_in().json()["token"]
    row = AuthToken.objects.values().get(user=alice)
    assert all(token not in str(value) for value in row.values())
    assert len(token) == 64 and row["token_key"] == token[:15]  # knox's lookup prefix: not enough to sign in
    assert with_token(row["token_key"]).get("/api/v1/plans/").status_code == 401
    assert with_token(row["digest"]).get("/api/v1/plans/").status_code == 401


def test_every_user_gets_a_new_token_each_time(alice) -> None:  # type: ignore[no-untyped-def]
    first, second = sign_in().json()["token"], sign_in().json()["token"]
    assert first != second
    assert AuthToken.objects.filter(user=alice).count() == 2


@pytest.mark.parametrize(
    ("method", "data", "content_type", "code"),
    [
        ("post", {"username": "alice", "password": "nope"}, "application/json", 400),
        ("post", {"username": "alice"}, "application/json", 400),
        ("post", "username=alice&password=pw-alice", "application/x-www-form-urlencoded", 415),
        ("post", "{not json", "application/json", 400),
        ("get", None, None, 405),
        ("put", {"username": "alice", "password": "pw-alice"}, "application/json", 405),
        ("delete", None, None, 401),
    ],
)
def test_error_answers_are_not_cached_either(alice, method, data, content_type, code) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    kwargs = {"data": data, "content_type": content_type} if data is not None else {}
    response = getattr(client, method)(TOKEN_URL, **kwargs)
    assert response.status_code == code
    assert_not_stored(response)


def test_a_wrong_password_is_refused_in_chinese(alice) -> None:  # type: ignore[no-untyped-def]
    response = sign_in(password="nope")
    assert response.json() == {"non_field_errors": ["用户名或密码不正确。"]}
    alice.is_active = False
    alice.save()
    assert sign_in().json() == {"non_field_errors": ["用户名或密码不正确。"]}
    assert not AuthToken.objects.exists()


def test_a_password_is_taken_as_typed(db) -> None:  # type: ignore[no-untyped-def]
    user = make_user("gina")
    user.set_password(" spaced out pw ")
    user.save()
    assert sign_in("gina", " spaced out pw ").status_code == 200


def test_throttled_and_locked_out_answers_are_not_cached(alice) -> None:  # type: ignore[no-untyped-def]
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    with mock.patch.object(ScopedRateThrottle, "THROTTLE_RATES", {"token": "1/minute"}):
        sign_in(password="nope")
        throttled = sign_in(password="nope")
    cache.clear()
    assert throttled.status_code == 429
    assert_not_stored(throttled)

    client = Client(REMOTE_ADDR="10.0.0.21")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, content_type="application/json")
    locked = client.post(TOKEN_URL, {"username": "alice", "password": "pw-alice"}, content_type="application/json")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert_not_stored(locked)
    assert not AuthToken.objects.exists()


def test_a_stale_token_in_the_header_does_not_stop_asking_for_a_new_one(alice) -> None:  # type: ignore[no-untyped-def]
    response = with_token("0" * 64).post(TOKEN_URL, {"username": "alice", "password": "pw-alice"}, format="json")
    assert response.status_code == 200


def test_an_expired_token_is_refused_in_chinese_and_deleted(alice) -> None:  # type: ignore[no-untyped-def]
    token = api_token(alice)
    AuthToken.objects.filter(user=alice).update(expiry=timezone.now() - timedelta(seconds=1))
    response = with_token(token).get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.json()["detail"] == EXPIRED
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=alice).exists()
    # Once deleted it is simply unknown.
    assert with_token(token).get("/api/v1/plans/").json()["detail"] == REVOKED


def test_tokens_expire_after_the_configured_time(alice, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=1)}
    token = sign_in().json()["token"]
    client = with_token(token)
    assert client.get("/api/v1/plans/").status_code == 200
    later = timezone.now() + timedelta(hours=1, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.json()["detail"] == EXPIRED


def test_api_token_days_sets_the_lifetime() -> None:
    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(days=30)
    assert settings.REST_KNOX["AUTH_HEADER_PREFIX"] == "Token"
    assert settings.REST_KNOX["AUTO_REFRESH"] is False
    result = settings_in_subprocess({"API_TOKEN_DAYS": "7"}, "s.REST_KNOX['TOKEN_TTL'].days")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"
    refused = settings_in_subprocess({"API_TOKEN_DAYS": "0"}, "1")
    assert refused.returncode != 0
    assert "API_TOKEN_DAYS must be at least 1" in refused.stderr


def test_signing_in_clears_the_owners_expired_tokens(alice, bob) -> None:  # type: ignore[no-untyped-def]
    api_token(alice), api_token(bob)
    AuthToken.objects.update(expiry=timezone.now() - timedelta(days=1))
    sign_in()
    assert AuthToken.objects.filter(user=alice).count() == 1  # the new one
    assert AuthToken.objects.filter(user=bob).count() == 1  # someone else's waits for them


def test_checking_a_token_reads_only_that_token(alice, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(20):
        api_token(alice)
    token = api_token(alice)
    with django_assert_num_queries(1):
        user, auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    assert user == alice and auth_token.user_id == alice.pk


@pytest.mark.parametrize("header", ["Token \xff\xfe", "Token ", "Token a b", "Token " + "z" * 300])
def test_malformed_tokens_are_refused_not_errors(alice, header) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/api/v1/plans/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_the_owner_revokes_the_token_in_use_and_keeps_the_others(alice) -> None:  # type: ignore[no-untyped-def]
    used, other = api_token(alice), api_token(alice)
    response = with_token(used).delete(TOKEN_URL)
    assert response.status_code == 204
    assert_not_stored(response)
    refused = with_token(used).get("/api/v1/plans/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == REVOKED
    assert with_token(other).get("/api/v1/plans/").status_code == 200
    assert with_token(used).delete(TOKEN_URL).status_code == 401


def test_revoking_needs_the_token_itself(alice) -> None:  # type: ignore[no-untyped-def]
    api_token(alice)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.delete(TOKEN_URL).status_code == 401
    assert client.post(REVOKE_ALL_URL).status_code == 401
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_the_owner_revokes_all_their_tokens(alice, bob) -> None:  # type: ignore[no-untyped-def]
    first, second, bobs = api_token(alice), api_token(alice), api_token(bob)
    response = with_token(first).post(REVOKE_ALL_URL)
    assert response.status_code == 204
    assert_not_stored(response)
    assert with_token(first).get("/api/v1/plans/").status_code == 401
    assert with_token(second).get("/api/v1/plans/").status_code == 401
    assert with_token(bobs).get("/api/v1/plans/").status_code == 200
    assert not AuthToken.objects.filter(user=alice).exists()
    unauthenticated = APIClient().post(REVOKE_ALL_URL)
    assert unauthenticated.status_code == 401
    assert_not_stored(unauthenticated)


def test_an_administrator_revokes_anyones_token_in_the_admin(ada, alice) -> None:  # type: ignore[no-untyped-def]
    token = api_token(alice)
    assert ada.has_perm("knox.view_authtoken") and ada.has_perm("knox.delete_authtoken")
    client = Client()
    client.force_login(ada)
    index = client.get(reverse("admin:index")).content.decode()
    assert "API 令牌" in index
    listing = client.get(reverse("admin:knox_authtoken_changelist"))
    assert listing.status_code == 200
    content = listing.content.decode()
    assert "alice（Alice）" in content and "有效" in content and "到期时间" in content
    assert token not in content
    # Tokens are issued to their owners only, through the API: none is made or edited here.
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    digest = AuthToken.objects.get(user=alice).digest
    detail = client.get(reverse("admin:knox_authtoken_change", args=[digest]))
    assert detail.status_code == 200
    assert "保存" not in detail.content.decode().split('id="authtoken_form"')[-1]

    response = client.post(reverse("admin:knox_authtoken_delete", args=[digest]), {"post": "yes"})
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=alice).exists()
    assert with_token(token).get("/api/v1/plans/").status_code == 401


def test_other_roles_do_not_see_the_tokens(alice, leo) -> None:  # type: ignore[no-untyped-def]
    api_token(leo)
    leo.is_staff = True  # even with the staff flag, no permission on tokens
    leo.save()
    client = Client()
    client.force_login(leo)
    assert client.get(reverse("admin:knox_authtoken_changelist")).status_code == 403
    assert not alice.has_perm("knox.delete_authtoken")
