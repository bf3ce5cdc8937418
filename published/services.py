"""Writes that start from a published figure. A figure itself never counts as an approved entry and never changes a
status: adopting one only starts an ordinary indicator-value draft, which is then submitted and reviewed as usual."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from indicators.models import IndicatorValue
from indicators.services import IndicatorValueInput, indicator_value_create
from indicators.values import INDICATOR_VALUE
from planning.workflow import Channel, field_limit

from .models import PublishedFigure


def adoption_note(figure: PublishedFigure) -> str:
    """The draft's 说明: the verbatim quote and where it stands in which document."""
    where = "，".join(part for part in (figure.source_title, figure.location) if part)
    return _("采用自公开报道（%(where)s）原文：“%(quote)s”") % {"where": where, "quote": figure.quote}


@transaction.atomic
def figure_adopt_as_draft(*, figure: PublishedFigure, user: User) -> IndicatorValue:
    """Start an indicator-value draft from a Leshan figure: value, source title, and the quote as the note.

    Refused (never cut or moved) when the figure is not a Leshan figure of a plan indicator, when its year is outside
    the plan period, or when its source title is longer than a value's source may be. An existing entry for the same
    indicator × region × year raises planning.entries.DuplicateEntry (with the entry, for the link).
    """
    indicator, region = figure.indicator, figure.region
    if indicator is None or region is None:
        raise ValidationError({"__all__": [_("只有对应规划指标的乐山（规划区域内）公开数据可以采用为填报草稿。")]})
    # Who asks is checked first: someone who may not capture this cell learns nothing else about it.
    INDICATOR_VALUE.authorize_create(user, indicator, region)
    plan = indicator.plan
    if not plan.period_start_year <= figure.year <= plan.period_end_year:
        raise ValidationError(
            {
                "year": [
                    _("该公开数据属于 %(year)s 年，不在规划期 %(start)s—%(end)s 年之内，不能采用为填报草稿。")
                    % {"year": figure.year, "start": plan.period_start_year, "end": plan.period_end_year}
                ]
            }
        )
    limit = field_limit(IndicatorValue, "source")
    if len(figure.source_title) > limit:
        raise ValidationError(
            {
                "source": [
                    _(
                        "来源标题共 %(length)d 字，超过“数据来源”最多 %(limit)d 字的限制，不能直接采用；"
                        "请手工新建填报并填写简明的数据来源。"
                    )
                    % {"length": len(figure.source_title), "limit": limit}
                ]
            }
        )
    return indicator_value_create(
        indicator=indicator,
        region=region,
        year=figure.year,
        data=IndicatorValueInput(
            value=f"{figure.value.normalize():f}", source=figure.source_title, note=adoption_note(figure)
        ),
        user=user,
        channel=Channel.FORM,
    )
