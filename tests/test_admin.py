"""Every model is in the Chinese admin, with list pages whose query count does not grow with rows."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from planning.models import Task

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"regions", "planning", "indicators"}
)


def example_row(model_name: str):  # type: ignore[no-untyped-def]
    """A row of a model the plan fixtures do not fill (what the system writes as it runs)."""
    from django.contrib.auth.models import User

    from planning.models import NotificationPreference, Unit, WebhookDelivery

    if model_name == "webhookdelivery":
        return WebhookDelivery.objects.create(unit=Unit.objects.first(), kind="warning", title="新增预警", text="x")
    if model_name == "targetadjustment":
        from indicators.models import Indicator, TargetAdjustment

        indicator = Indicator.objects.order_by("pk").first()
        assert indicator is not None
        return TargetAdjustment.objects.create(
            indicator=indicator,
            original_value=indicator.target_value,
            adjusted_value=indicator.target_value,
            effective_year=indicator.plan.period_end_year,
            reason="测试",
            document="测试文件",
            created_by=User.objects.create_user("adjuster"),
        )
    if model_name == "notificationpreference":
        user = User.objects.create_user("pref-owner")
        return NotificationPreference.objects.create(user=user, kind="warning", email=False)
    return None


def test_every_plan_model_is_registered() -> None:
    assert REGISTERED == [
        ("indicators", "indicator"),
        ("indicators", "targetadjustment"),
        ("planning", "column"),
        ("planning", "initiative"),
        ("planning", "notificationpreference"),
        ("planning", "plan"),
        ("planning", "responsibility"),
        ("planning", "task"),
        ("planning", "tasktarget"),
        ("planning", "unit"),
        ("planning", "webhookdelivery"),
        ("regions", "region"),
    ]


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_list_page_renders_in_chinese_with_bounded_queries(
    admin_client: Client,
    django_assert_max_num_queries,
    app_label: str,
    model_name: str,  # type: ignore[no-untyped-def]
) -> None:
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    with django_assert_max_num_queries(14):
        response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "乐山教育规划目标跟踪系统" in content
    assert "选择" in content  # Django's own strings are translated too


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_change_page_renders(admin_client: Client, app_label: str, model_name: str) -> None:
    model = next(m for m in admin.site._registry if m._meta.model_name == model_name and m._meta.app_label == app_label)
    obj = model._default_manager.order_by("pk").first() or example_row(model_name)
    assert obj is not None
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_the_admin_shows_the_plan_in_chinese(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:planning_task_changelist"), {"q": "嘉课堂"})
    content = response.content.decode()
    assert "智育“嘉课堂”工程" in content
    assert "任务" in content


def test_task_list_filters_by_quantitative_target(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:planning_task_changelist"), {"quantitative": "no"})
    assert response.status_code == 200
    qualitative = Task.objects.filter(targets__isnull=True).count()
    assert f"{qualitative} 任务" in response.content.decode() or f"{qualitative} 个任务" in response.content.decode()


def test_an_administrator_can_reassign_a_lead_unit(admin_client: Client) -> None:
    from planning.models import Responsibility, ResponsibilityBasis, Unit

    row = Responsibility.objects.filter(task__code="C10.1").get()
    finance = Unit.objects.get(name="市财政局")
    response = admin_client.post(
        reverse("admin:planning_responsibility_change", args=[row.pk]),
        {"task": row.task_id, "unit": finance.pk, "role": "lead", "order": 1},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row.refresh_from_db()
    assert row.unit == finance
    assert row.basis == ResponsibilityBasis.MANUAL
    assert row.source == "管理员 admin 指定"


def test_healthz_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
