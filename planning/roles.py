"""Roles as Django groups, and the admin permissions of the 管理员 group."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from .models import Role

# 管理员 manages users, scopes, plan data and deadlines in the Django admin.
ADMIN_APPS = {"regions", "planning", "indicators", "exchange", "reports", "published", "django_celery_beat", "knox"}
ADMIN_AUTH_MODELS = {"user", "group"}


def ensure_role_groups(**_: Any) -> None:
    """Create the four role groups and give 管理员 its permissions; safe to run any number of times."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    admin = Group.objects.get(name=Role.ADMIN.value)
    wanted = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS) | Permission.objects.filter(
        content_type__app_label="auth", content_type__model__in=ADMIN_AUTH_MODELS
    )
    admin.permissions.add(*wanted)


def _roles_of(user: User | AnonymousUser, names: set[str]) -> frozenset[Role]:
    roles = frozenset(role for role in Role if role.value in names)
    return roles | {Role.ADMIN} if getattr(user, "is_superuser", False) else roles


def user_roles(user: User | AnonymousUser) -> frozenset[Role]:
    """The roles of a user, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_cached_roles", None)
    if cached is None:
        cached = _roles_of(user, set(user.groups.values_list("name", flat=True)))
        setattr(user, "_cached_roles", cached)  # noqa: B010  # per-request cache on the user object
    return cached


def prime_roles(users: Iterable[User]) -> None:
    """Read the roles of many people in one query and cache them on each, as user_roles does for one."""
    pending = {user.pk: user for user in users if getattr(user, "_cached_roles", None) is None}
    names: dict[int, set[str]] = {pk: set() for pk in pending}
    for user_id, name in User.groups.through.objects.filter(user_id__in=list(pending)).values_list(
        "user_id", "group__name"
    ):
        names[user_id].add(name)
    for pk, user in pending.items():
        cache_roles(user, names[pk])


def cache_roles(user: User, group_names: Iterable[str]) -> None:
    """Cache on the user the roles of these groups (read by prime_roles, or with the scopes by prime_scopes)."""
    setattr(user, "_cached_roles", _roles_of(user, set(group_names)))  # noqa: B010  # as user_roles


def has_role(user: User | AnonymousUser, role: Role) -> bool:
    return role in user_roles(user)


def views_everything(user: User | AnonymousUser) -> bool:
    return bool(user_roles(user) & {Role.LEADER, Role.ADMIN})
