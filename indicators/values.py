"""Indicator values as a kind of reviewed entry: what is entered, how it is checked, and what approval does.

The shared services, pages and API of planning.entries read this declaration; nothing here repeats the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from planning import workflow
from planning.entries import EntryKind
from planning.tasks import dispatch_on_commit
from planning.templatetags.plan_tags import plain
from planning.workflow import UNSET, NotAllowed, NotInScope
from regions.models import Region

from .models import Indicator, IndicatorValue, IndicatorValueEvidence, PendingSeriesRecompute
from .selectors import (
    can_capture_cell,
    can_view_cell,
    indicator_values_capturable_by,
    indicator_values_review_scope,
    indicator_values_visible_to,
    previous_approved,
    region_plan_for,
)
from .tasks import recompute_series


@dataclass
class IndicatorValueInput:
    """What a person or client sent; a field left UNSET keeps its stored value on update (blank on create)."""

    value: Any = UNSET
    source: Any = UNSET
    note: Any = UNSET
    outlier_note: Any = UNSET

    def over(self, entry: IndicatorValue | None) -> IndicatorValueInput:
        """Fields not sent take the entry's stored values (a partial update keeps what it does not name)."""
        stored = {
            "value": plain(entry.value) if entry is not None else None,
            "source": entry.source if entry is not None else "",
            "note": entry.note if entry is not None else "",
            "outlier_note": entry.outlier_note if entry is not None else "",
        }
        return IndicatorValueInput(**{k: stored[k] if getattr(self, k) is UNSET else getattr(self, k) for k in stored})


@dataclass(frozen=True)
class OutlierCheck:
    previous_year: int
    previous: Decimal
    jump: Decimal
    span: Decimal


def outlier_check(indicator: Indicator, region: Region, year: int, value: Decimal) -> OutlierCheck | None:
    """A one-year change larger than the whole baseline→target distance (DHIS2's min-max idea)."""
    plan = region_plan_for(indicator, region)
    if plan.baseline is None or plan.target is None:
        return None
    span = abs(plan.target - plan.baseline)
    if span == 0:
        return None
    previous = previous_approved(indicator, region, year)
    previous_year, previous_value = previous if previous else (indicator.baseline_year, plan.baseline)
    jump = abs(value - previous_value)
    if jump <= span:
        return None
    return OutlierCheck(previous_year, previous_value, jump, span)


def indicator_value_clean(
    *, indicator: Indicator, region: Region, year: int, data: IndicatorValueInput
) -> dict[str, Any]:
    data = data.over(None)
    errors: list[ValidationError] = []
    cleaned: dict[str, Any] = {}
    try:
        cleaned["value"] = workflow.parse_decimal(
            data.value,
            field_name="value",
            decimal_places=indicator.decimal_places,
            maximum=indicator.max_value,
            label=_("数值"),
        )
    except ValidationError as exc:
        errors.append(exc)
    texts = {
        "source": (_("数据来源"), _("请填写数据来源，例如“教育事业统计年报”。")),
        "note": (_("说明"), ""),
        "outlier_note": (_("异常值确认说明"), ""),
    }
    for name, (label, required) in texts.items():
        try:
            cleaned[name] = workflow.check_text(
                getattr(data, name), model=IndicatorValue, field_name=name, label=label, required=required
            )
        except ValidationError as exc:
            errors.append(exc)
    if "value" in cleaned and "outlier_note" in cleaned:
        check = outlier_check(indicator, region, year, cleaned["value"])
        if check is not None and not cleaned["outlier_note"]:
            errors.append(
                ValidationError(
                    {
                        "outlier_note": [
                            _(
                                "与 %(year)s 年的 %(previous)s 相比变动 %(jump)s，超过规划期基期到目标的全部差距 "
                                "%(span)s；如数值无误，请填写确认说明。"
                            )
                            % {
                                "year": check.previous_year,
                                "previous": f"{check.previous.normalize():f}",
                                "jump": f"{check.jump.normalize():f}",
                                "span": f"{check.span.normalize():f}",
                            }
                        ]
                    }
                )
            )
    if errors:
        raise workflow.merge_errors(*errors)
    return cleaned


def status_request_series_recompute(*, indicator_id: int, region_id: int) -> None:
    """Record that a series must be recomputed and queue it once the transaction commits."""
    PendingSeriesRecompute.objects.create(indicator_id=indicator_id, region_id=region_id)
    dispatch_on_commit(recompute_series, indicator_id, region_id)


def _authorize_create(user: User, indicator: Indicator, region: Region | None) -> None:
    if region is None or not can_capture_cell(user, indicator, region):
        if region is not None and can_view_cell(user, indicator, region):
            raise NotAllowed(_("您没有填报该指标该区域数据的权限。"))
        raise NotInScope()


def _duplicate_message(indicator: Indicator, region: Region | None, year: int, existing: Any) -> str:
    return _("%(indicator)s · %(region)s · %(year)s 年已有填报（%(status)s），请打开已有填报修改。") % {
        "indicator": indicator.name,
        "region": region.name if region else "",
        "year": year,
        "status": existing.get_status_display(),
    }


def _new(indicator: Indicator, region: Region | None, year: int, user: User) -> IndicatorValue:
    return IndicatorValue(indicator=indicator, region=region, year=year, created_by=user, updated_by=user, version=0)


def _clean(
    indicator: Indicator, region: Region | None, year: int, data: IndicatorValueInput, stored: Any
) -> dict[str, Any]:
    assert region is not None  # an indicator value always has its region
    return indicator_value_clean(indicator=indicator, region=region, year=year, data=data.over(stored))


def _apply(entry: Any, cleaned: Mapping[str, Any], user: User, channel: str) -> None:
    for name, value in cleaned.items():
        setattr(entry, name, value)


def _differs(entry: Any, cleaned: Mapping[str, Any]) -> bool:
    return any(getattr(entry, name) != value for name, value in cleaned.items())


def _copy_approved(entry: Any, user: User, channel: str) -> None:
    entry.approved_value = entry.value


def _after_approve(entry: Any) -> None:
    status_request_series_recompute(indicator_id=entry.indicator_id, region_id=entry.region_id)


INDICATOR_VALUE = EntryKind(
    slug="indicator-value",
    model=IndicatorValue,
    evidence_model=IndicatorValueEvidence,
    evidence_owner="entry",
    visible=indicator_values_visible_to,
    capturable=indicator_values_capturable_by,
    review_scope=indicator_values_review_scope,
    authorize_create=_authorize_create,
    existing=lambda indicator, region, year: IndicatorValue.objects.filter(
        indicator=indicator, region=region, year=year
    ).first(),
    new=_new,
    duplicate_message=_duplicate_message,
    plan_of=lambda indicator: indicator.plan,
    clean=_clean,
    apply=_apply,
    differs=_differs,
    item_of=lambda entry: entry.indicator,
    copy_approved=_copy_approved,
    after_approve=_after_approve,
    history_fields=[
        "status",
        "value",
        "source",
        "note",
        "outlier_note",
        "approved_value",
        "review_comment",
        "revision",
    ],
    select_related=["indicator__plan", "indicator__lead_unit", "region", "created_by", "updated_by", "reviewed_by"],
    detail_url="indicators:value-detail",
    lead_unit_of=lambda entry: entry.indicator.lead_unit,
)
