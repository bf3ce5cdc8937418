"""指标分解: region baselines/targets, defaults for rates, the add-up check for counts, history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from indicators.models import IndicatorRegionTarget
from indicators.selectors import region_plan_for
from indicators.services import indicator_region_target_set
from planning.workflow import NotAllowed
from regions.models import Region

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_rates_default_to_the_city_until_a_region_has_its_own(ada, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    plan = region_plan_for(rate, muchuan)
    assert (plan.baseline, plan.target, plan.origin) == (Decimal("95"), Decimal("96"), "default")
    indicator_region_target_set(indicator=rate, region=muchuan, baseline="93.5", target="", user=ada)
    plan = region_plan_for(rate, muchuan)
    assert (plan.baseline, plan.target, plan.origin) == (Decimal("93.5"), Decimal("96"), "region")
    assert plan.expected(rate, 2023) == Decimal("93.5") + Decimal("2.5") * 3 / 5


def test_counts_have_no_default(ada, headcount, muchuan) -> None:  # type: ignore[no-untyped-def]
    plan = region_plan_for(headcount, muchuan)
    assert (plan.baseline, plan.target, plan.origin) == (None, None, "none")
    assert plan.expected(headcount, 2023) is None


def test_the_page_warns_when_county_targets_do_not_add_up(ada, headcount) -> None:  # type: ignore[no-untyped-def]
    counties = list(Region.objects.filter(parent__code="511100").order_by("order"))
    form = {f"target_{r.pk}": "0.8" for r in counties}
    form.update({f"baseline_{r.pk}": "0.78" for r in counties})
    client = client_for(ada)
    url = reverse("indicators:decomposition-edit", args=[headcount.pk])
    assert client.post(url, form).status_code == 302
    content = client.get(url).content.decode()
    # 12 × 0.8 = 9.6 = the city's target; 12 × 0.78 = 9.36 vs 9.4.
    assert "各区域目标合计 9.6，与全市目标一致" in content
    form[f"target_{counties[0].pk}"] = "0.5"
    client.post(url, form)
    content = client.get(url).content.decode()
    assert "已设置的区域目标合计 9.3，全市目标 9.6，相差 -0.3" in content
    assert "基期值合计 9.36，与全市相差 -0.04" in content


def test_a_bad_row_saves_nothing(ada, rate, muchuan, jiajiang) -> None:  # type: ignore[no-untyped-def]
    response = client_for(ada).post(
        reverse("indicators:decomposition-edit", args=[rate.pk]),
        {f"target_{muchuan.pk}": "96.5", f"target_{jiajiang.pk}": "一百二"},
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "“一百二”不是有效的数字。" in content
    assert "均未保存" in content
    assert not IndicatorRegionTarget.objects.exists()


def test_only_administrators_decompose(alice, leo, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        indicator_region_target_set(indicator=rate, region=muchuan, baseline="", target="96", user=alice)
    url = reverse("indicators:decomposition-edit", args=[rate.pk])
    assert client_for(leo).get(url).status_code == 200
    assert client_for(leo).post(url, {f"target_{muchuan.pk}": "96"}).status_code == 403


def test_the_city_keeps_the_plans_own_figures(ada, rate, city) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        indicator_region_target_set(indicator=rate, region=city, baseline="90", target="99", user=ada)


def test_changes_are_kept_in_history(ada, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    indicator_region_target_set(indicator=rate, region=muchuan, baseline="", target="96.2", user=ada)
    indicator_region_target_set(indicator=rate, region=muchuan, baseline="", target="96.4", user=ada)
    indicator_region_target_set(indicator=rate, region=muchuan, baseline="", target="", user=ada)
    history = list(IndicatorRegionTarget.history.order_by("history_date", "history_id"))
    assert [(h.target_value, h.history_type, h.history_user.username) for h in history] == [
        (Decimal("96.2"), "+", "ada"),
        (Decimal("96.4"), "~", "ada"),
        (Decimal("96.4"), "-", "ada"),
    ]
    assert (
        "表单：设置分解"
        in client_for(ada).get(reverse("indicators:decomposition-edit", args=[rate.pk])).content.decode()
    )
