"""The demo dataset and accounts: labelled on every page, removable without touching real rows, commands idempotent."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo.services import demo_load, demo_remove
from indicators.models import IndicatorStatus, IndicatorValue
from indicators.selectors import demo_present
from indicators.services import IndicatorValueInput, indicator_value_create
from planning.models import TaskProgress

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PAGES = ["dashboards:overview", "dashboards:regions", "dashboards:tasks", "dashboards:units"]


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_demo_dataset_is_labelled_and_removable(leo, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    real = indicator_value_create(
        indicator=rate,
        region=city,
        year=2025,
        user=alice,
        data=IndicatorValueInput(value="95.9", source="2025年统计年报"),
    )
    assert not demo_present()
    assert (
        "本系统当前包含系统生成的2021—2024年演示数据"
        not in client_for(leo).get(reverse("dashboards:overview")).content.decode()
    )
    result = demo_load()
    assert result.values > 0
    assert set(IndicatorValue.objects.filter(is_demo=True).values_list("year", flat=True)) == {2021, 2022, 2023, 2024}
    assert set(IndicatorValue.objects.filter(is_demo=True).values_list("source", flat=True)) == {
        "演示数据（系统生成，非真实统计）"
    }
    for name in [*PAGES, "indicators:value-list"]:
        assert "本系统当前包含系统生成的2021—2024年演示数据" in client_for(leo).get(reverse(name)).content.decode()
    assert demo_load().values == 0  # idempotent
    demo_remove()
    assert not demo_present()
    assert IndicatorValue.objects.get() == real


def test_load_demo_and_remove_demo_recompute_what_the_data_feeds() -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "已载入演示数据" in out.getvalue()
    assert demo_present()
    assert TaskProgress.objects.filter(is_demo=True).exists()
    assert IndicatorStatus.objects.exists()  # statuses computed from the generated values
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "演示数据已存在" in out.getvalue()
    out = io.StringIO()
    call_command("remove_demo", stdout=out)
    assert "已删除演示数据" in out.getvalue()
    assert not demo_present()
    assert not IndicatorValue.objects.filter(is_demo=True).exists()


def test_seed_demo_users_prints_passwords_once() -> None:
    out = io.StringIO()
    call_command("seed_demo_users", stdout=out)
    for username in ("admin", "leader", "edu_entry", "edu_reviewer", "muchuan_entry"):
        assert username in out.getvalue()
        assert User.objects.filter(username=username).exists()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="muchuan_entry").scope.regions.get().name == "沐川县"
    out = io.StringIO()
    call_command("seed_demo_users", stdout=out)
    assert "演示账号已存在" in out.getvalue()
    out = io.StringIO()
    call_command("seed_demo_users", reset_passwords=True, stdout=out)
    assert "密码只显示这一次" in out.getvalue()
