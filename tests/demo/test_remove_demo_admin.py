"""The demo banner speaks to users (no developer command), and administrators remove the demo data from the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from demo.services import DEMO_YEARS, demo_load
from indicators.models import IndicatorValue
from indicators.selectors import demo_present
from indicators.services import IndicatorValueInput, indicator_value_create
from planning.models import TaskProgress, TaskTargetValue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

REMOVE = "/admin/demo/remove/"
YEARS = f"{DEMO_YEARS[0]}—{DEMO_YEARS[-1]}"


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def banner(body: str) -> str:
    start = body.index('class="demo-banner"')
    return body[start : body.index("</div>", start)]


def test_the_url_is_the_named_one() -> None:
    assert reverse("demo:remove") == REMOVE


def test_the_banner_tells_users_without_a_developer_command(leo, ada) -> None:  # type: ignore[no-untyped-def]
    demo_load()
    for user in (leo, ada):
        text = banner(client_for(user).get(reverse("dashboards:overview")).content.decode())
        assert f"本系统当前包含系统生成的{YEARS}年演示数据，不是真实统计，仅供熟悉功能。" in text
        assert "管理员可在后台删除演示数据。" in text
        assert "manage.py" not in text and "remove_demo" not in text
    # Only an administrator is given the way there.
    assert REMOVE not in banner(client_for(leo).get(reverse("dashboards:overview")).content.decode())
    assert f'href="{REMOVE}"' in banner(client_for(ada).get(reverse("dashboards:overview")).content.decode())


def test_an_administrator_removes_the_demo_data_from_the_admin(ada, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    real = indicator_value_create(
        indicator=rate, region=city, year=2025, user=alice, data=IndicatorValueInput(value="95.9", source="统计年报")
    )
    result = demo_load()
    client = client_for(ada)
    assert f'href="{REMOVE}"' in client.get(reverse("admin:index")).content.decode()  # the admin's front page

    confirm = client.get(REMOVE)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert f"指标数值 {result.values} 条、任务进展 {result.progress} 条" in body
    assert "确认删除演示数据" in body
    assert demo_present()  # asking is not doing

    done = client.post(REMOVE, follow=True)
    assert done.redirect_chain[0] == (reverse("admin:index"), 302)
    assert f"已删除演示数据：指标数值 {result.values} 条、任务进展 {result.progress} 条" in done.content.decode()
    assert not demo_present()
    assert IndicatorValue.objects.get() == real
    # The deletions' history says who and how.
    for model in (IndicatorValue, TaskProgress, TaskTargetValue):
        removed = model.history.filter(history_type="-")
        assert removed.exists(), model
        assert set(removed.values_list("history_change_reason", "history_user")) == {("后台：删除演示数据", ada.pk)}
    # Nothing left: the page says so, and the banner is gone.
    assert "系统中没有演示数据" in client.get(REMOVE).content.decode()
    assert 'class="demo-banner"' not in client.get(reverse("dashboards:overview")).content.decode()


def test_a_superuser_may_and_nobody_else_may(leo, alice, nobody) -> None:  # type: ignore[no-untyped-def]
    demo_load()
    for user in (leo, alice, nobody):
        client = client_for(user)
        assert client.get(REMOVE).status_code == 403
        assert client.post(REMOVE).status_code == 403
        assert demo_present(), user
    anonymous = Client().post(REMOVE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert demo_present()
    root = User.objects.create_superuser("root", password="pw-root")
    assert client_for(root).post(REMOVE).status_code == 302
    assert not demo_present()
