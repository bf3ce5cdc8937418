"""A generated .docx evaluation report and its state (queued, running, done, failed)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from planning.models import Plan


class ReportKind(models.TextChoices):
    ANNUAL = "annual", _("年度监测报告")
    MIDTERM = "midterm", _("中期评估报告")
    FINAL = "final", _("终期评估报告")


class ReportState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已生成")
    FAILED = "failed", _("生成失败")


def report_upload_to(instance: models.Model, filename: str) -> str:
    return f"reports/{uuid.uuid4().hex}.docx"


class Report(models.Model):
    """A generated .docx evaluation report (年度监测报告 / 中期评估报告 / 终期评估报告)."""

    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("截至年度"))
    kind = models.CharField(_("类型"), max_length=10, choices=ReportKind.choices)
    state = models.CharField(_("状态"), max_length=10, choices=ReportState.choices, default=ReportState.QUEUED)
    file = models.FileField(_("文件"), upload_to=report_upload_to, blank=True)
    error = models.TextField(_("错误"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        # Created by the indicators app (its migration 0005); the table kept its name when the model moved here.
        db_table = "indicators_report"
        verbose_name = _("评估报告")
        verbose_name_plural = _("评估报告")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.plan.short_title} {self.year}年{self.get_kind_display()}"

    @property
    def filename(self) -> str:
        return f"{self.plan.short_title}{self.year}年{self.get_kind_display()}.docx".replace("“", "").replace("”", "")
