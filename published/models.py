"""Figures taken from published documents (公开数据): what has been reported about Leshan and its peer cities.

A published figure is evidence of what was said in public, quoted verbatim with its source. It never counts as an
approved entry and never changes a status; a 填报员 may start a draft from a Leshan figure, which is then reviewed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator
from planning.models import TaskTarget
from regions.models import Region


class Qualifier(models.TextChoices):
    NONE = "", _("（无）")
    ABOVE = "以上", _("以上")
    OVER = "超", _("超")
    NEARLY = "近", _("近")
    MORE_THAN = "余", _("余")
    ABOUT = "约", _("约")


class PublishedFigure(models.Model):
    """One number stated in a published document, with the words around it."""

    # The subject: a region of the plan when the figure is about one; else a peer city named in the source.
    region = models.ForeignKey(
        Region,
        verbose_name=_("区域（规划内）"),
        on_delete=models.PROTECT,
        related_name="published_figures",
        null=True,
        blank=True,
    )
    subject = models.CharField(_("对象"), max_length=40, help_text=_("如：乐山市、内江市、九江市"))
    province = models.CharField(_("所在省份"), max_length=20)
    measure = models.CharField(_("指标（原文表述）"), max_length=120)
    value = models.DecimalField(_("数值"), max_digits=16, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    qualifier = models.CharField(_("限定语"), max_length=4, choices=Qualifier.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("所属年份"))
    period = models.CharField(_("时间（原文）"), max_length=40, blank=True, help_text=_("如：截至2020年底"))
    quote = models.TextField(_("原文摘录"), max_length=1000)
    source_document = models.CharField(_("来源文件"), max_length=200)
    source_title = models.CharField(_("来源标题"), max_length=200)
    location = models.CharField(_("在原文中的位置"), max_length=100, blank=True)
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("对应规划指标"),
        on_delete=models.SET_NULL,
        related_name="published_figures",
        null=True,
        blank=True,
    )
    task_target = models.ForeignKey(
        TaskTarget,
        verbose_name=_("对应任务量化目标"),
        on_delete=models.SET_NULL,
        related_name="published_figures",
        null=True,
        blank=True,
    )
    definition_note = models.CharField(
        _("口径说明"), max_length=300, blank=True, help_text=_("与规划指标口径不同时说明，如“三类残疾儿童入学率”")
    )
    key = models.SlugField(_("标识"), max_length=80, unique=True, help_text=_("数据文件中的唯一标识"))

    class Meta:
        verbose_name = _("公开数据")
        verbose_name_plural = _("公开数据")
        ordering = ["province", "subject", "year", "measure"]

    def __str__(self) -> str:
        return f"{self.subject} {self.year} {self.measure} {self.value.normalize():f}{self.unit}"

    @property
    def is_leshan(self) -> bool:
        return self.region_id is not None
