"""An uploaded 填报模板 and what became of it (checked, previewed, applied)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from planning.models import Plan


class ImportState(models.TextChoices):
    REJECTED = "rejected", _("有错误，未导入")
    PREVIEWED = "previewed", _("待确认")
    UNCHANGED = "unchanged", _("无变化，无需导入")
    APPLYING = "applying", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("导入失败，未写入")


def import_upload_to(instance: models.Model, filename: str) -> str:
    return f"imports/{uuid.uuid4().hex}.xlsx"


class ImportBatch(models.Model):
    """An uploaded 填报模板: checked as a whole, previewed, then applied on confirmation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.CASCADE, related_name="imports"
    )
    file = models.FileField(_("文件"), upload_to=import_upload_to)
    original_name = models.CharField(_("文件名"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=ImportState.choices)
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    summary = models.JSONField(_("检查结果"), default=dict)
    result = models.JSONField(_("导入结果"), default=dict)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        # Created by the indicators app (its migration 0005); the table kept its name when the model moved here.
        db_table = "indicators_importbatch"
        verbose_name = _("Excel导入")
        verbose_name_plural = _("Excel导入")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_state_display()}）"
