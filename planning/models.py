"""The plan's structure: plans, their key initiatives, special columns, tasks and responsible units."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from regions.models import Region

from . import assessment
from .assessment import DISPLAY_LABELS, display_status


class PlanState(models.TextChoices):
    """A plan's life: imported → tracked → period over (entries still accepted) → archived (read-only)."""

    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("实施中")
    ENDED = "ended", _("已结束")
    ARCHIVED = "archived", _("已归档")


class Plan(models.Model):
    code = models.SlugField(_("代码"), max_length=60, unique=True)
    title = models.CharField(_("规划名称"), max_length=200)
    short_title = models.CharField(_("简称"), max_length=60)
    issuing_body = models.CharField(_("发文机关"), max_length=100)
    issuing_body_note = models.CharField(_("发文机关说明"), max_length=200, blank=True)
    issued_on = models.DateField(_("成文日期"), null=True, blank=True)
    issued_on_text = models.CharField(_("成文日期（原文）"), max_length=40, blank=True)
    period_start_year = models.PositiveSmallIntegerField(_("规划期起始年"))
    period_end_year = models.PositiveSmallIntegerField(_("规划期末年"))
    baseline_year = models.PositiveSmallIntegerField(_("基期年"))
    source_document = models.CharField(_("来源文件"), max_length=200)
    note = models.TextField(_("说明"), blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("规划区域"),
        on_delete=models.PROTECT,
        related_name="plans",
        null=True,
        blank=True,
        help_text=_("规划覆盖的行政区域（其下各级区域分别填报、判定）"),
    )
    # Status bands for ratio R = completion / expected completion (see planning.assessment).
    lagging_below = models.DecimalField(
        _("滞后阈值（R 低于）"), max_digits=4, decimal_places=2, default=Decimal("0.60")
    )
    watch_below = models.DecimalField(
        _("需加快阈值（R 低于）"), max_digits=4, decimal_places=2, default=Decimal("0.95")
    )
    on_track_below = models.DecimalField(
        _("基本符合预期阈值（R 低于）"), max_digits=4, decimal_places=2, default=Decimal("1.05")
    )
    public_page = models.BooleanField(
        _("在政务公开页面发布"),
        default=True,
        help_text=_("实施中或已结束的规划在 /public/ 公开其指标、已审核数值与进度；取消勾选即不公开"),
    )
    state = models.CharField(_("状态"), max_length=10, choices=PlanState.choices, default=PlanState.DRAFT)
    # When the final evaluation (终期评估) was finalised: from then on an ended plan takes no more entries.
    evaluation_finalised_at = models.DateTimeField(_("终期评估定稿时间"), null=True, blank=True)
    # SHA-256 of the fixture last loaded, so `load_plan` can leave administrators' corrections alone
    # unless the fixture itself changed.
    fixture_sha256 = models.CharField(_("载入的数据文件校验和"), max_length=64, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("规划")
        verbose_name_plural = _("规划")
        ordering = ["-period_end_year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start_year__lte=F("period_end_year")), name="plan_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(baseline_year__lt=F("period_start_year")), name="plan_baseline_before_period"
            ),
            models.CheckConstraint(
                condition=Q(lagging_below__lte=F("watch_below")) & Q(watch_below__lte=F("on_track_below")),
                name="plan_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def years(self) -> range:
        return range(self.period_start_year, self.period_end_year + 1)

    def area_regions(self) -> models.QuerySet[Region]:
        """The plan's region and the regions under it (up to two levels: city → county, or province → city → county)."""
        if self.region_id is None:
            return Region.objects.none()
        root = self.region_id
        return Region.objects.filter(Q(pk=root) | Q(parent_id=root) | Q(parent__parent_id=root)).order_by("order")

    def area_divisions(self) -> models.QuerySet[Region]:
        """The regions under the plan's region (where targets are decomposed)."""
        return self.area_regions().exclude(pk=self.region_id or 0)


class Initiative(models.Model):
    """A heading of the plan that groups tasks, e.g. 实施德育铸魂提质行动 under 五大提质行动."""

    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="initiatives")
    code = models.CharField(_("代码"), max_length=20)
    group_order = models.PositiveSmallIntegerField(_("分组序号"))
    group_number = models.CharField(_("分组编号"), max_length=10, blank=True)
    group_title = models.CharField(_("分组"), max_length=100)
    number = models.PositiveSmallIntegerField(_("序号"), null=True, blank=True)
    title = models.CharField(_("名称"), max_length=100)
    order = models.PositiveSmallIntegerField(_("排序"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("重点举措")
        verbose_name_plural = _("重点举措")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="initiative_unique_code"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def label(self) -> str:
        return f"{self.group_number}{self.number}." if self.number else self.group_number


class Column(models.Model):
    """A 专栏 of the plan: 专栏1 is the indicator table, 专栏2-16 hold numbered tasks."""

    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="columns")
    number = models.PositiveSmallIntegerField(_("专栏号"))
    title = models.CharField(_("标题"), max_length=100)
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("所属重点举措"),
        on_delete=models.PROTECT,
        related_name="columns",
        null=True,
        blank=True,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("专栏")
        verbose_name_plural = _("专栏")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="column_unique_number"),
        ]

    def __str__(self) -> str:
        return f"专栏{self.number} {self.title}"


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("企业微信")
    DINGTALK = "dingtalk", _("钉钉")


class Unit(models.Model):
    """A 责任单位: a government department or body responsible for tasks."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # A group robot (企业微信/钉钉) that receives the unit's notifications; empty: none.
    webhook_kind = models.CharField(_("群机器人类型"), max_length=10, choices=WebhookKind.choices, blank=True)
    webhook_url = models.URLField(
        _("群机器人地址"),
        max_length=300,
        blank=True,
        help_text=_("企业微信或钉钉群机器人的 Webhook 地址；通知将以 Markdown 文本推送到该群。"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="tasks")
    initiative = models.ForeignKey(
        Initiative, verbose_name=_("重点举措"), on_delete=models.PROTECT, related_name="tasks"
    )
    column = models.ForeignKey(
        Column, verbose_name=_("专栏"), on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    code = models.CharField(_("代码"), max_length=20)
    number = models.PositiveSmallIntegerField(_("序号"), null=True, blank=True)
    label = models.CharField(_("编号"), max_length=30)
    title = models.CharField(_("任务名称"), max_length=100)
    text = models.TextField(_("任务内容"))
    order = models.PositiveSmallIntegerField(_("排序"))
    source_document = models.CharField(_("来源文件"), max_length=200)
    units: models.ManyToManyField[Unit, Responsibility] = models.ManyToManyField(
        Unit, verbose_name=_("责任单位"), through="Responsibility", related_name="tasks", blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="task_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.title}"

    # These read `targets.all()` so that a prefetch serves them without queries.
    @property
    def quantity_targets(self) -> list[TaskTarget]:
        return [t for t in self.targets.all() if t.kind != TargetKind.MILESTONE]

    @property
    def milestone_target(self) -> TaskTarget | None:
        return next((t for t in self.targets.all() if t.kind == TargetKind.MILESTONE), None)

    @property
    def is_qualitative(self) -> bool:
        return not self.targets.all()

    @property
    def progress_kind(self) -> str:
        if self.milestone_target is not None:
            return "milestone"
        return "qualitative" if self.is_qualitative else "quantitative"


class TargetKind(models.TextChoices):
    CUMULATIVE = "cumulative", _("期末累计")
    ANNUAL = "annual", _("每年")
    MILESTONE = "milestone", _("区域达标")
    LEVEL = "level", _("达到水平")


class TaskTarget(models.Model):
    """One number a task commits to; a task with several numbers (80所141个项目) has one row each.

    Tasks with no row are qualitative: their progress is reported as a percentage with a narrative.
    """

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="targets")
    order = models.PositiveSmallIntegerField(_("排序"))
    kind = models.CharField(_("目标类型"), max_length=16, choices=TargetKind.choices)
    label = models.CharField(_("目标内容"), max_length=120)
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)])
    # Ranges such as 1—2个 keep the lower bound as the target and the upper bound here.
    value_max = models.DecimalField(_("目标上限"), max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=20)
    qualifier = models.CharField(_("限定语"), max_length=10, blank=True, help_text=_("如“以上”“左右”"))
    target_year = models.PositiveSmallIntegerField(_("目标年"))
    decimal_places = models.PositiveSmallIntegerField(_("填报小数位数"), default=0, validators=[MaxValueValidator(4)])
    source_text = models.CharField(_("原文"), max_length=300)
    regions = models.ManyToManyField(Region, verbose_name=_("涉及区域"), related_name="task_targets", blank=True)

    history = HistoricalRecords(m2m_fields=[regions])

    class Meta:
        verbose_name = _("任务量化目标")
        verbose_name_plural = _("任务量化目标")
        ordering = ["task", "order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "order"], name="tasktarget_unique_order"),
            models.CheckConstraint(
                condition=Q(value_max__isnull=True) | Q(value_max__gte=F("value")),
                name="tasktarget_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.display_value}{self.unit}{self.qualifier}"

    @property
    def display_value(self) -> str:
        low = f"{self.value.normalize():f}"
        if self.value_max is None:
            return low
        return f"{low}—{self.value_max.normalize():f}"


class ResponsibilityRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")
    CO = "co", _("配合单位")


class ResponsibilityBasis(models.TextChoices):
    STATED = "stated", _("原文载明")
    MAPPED = "mapped", _("按对应任务引用")
    DEFAULT = "default", _("发文机关（默认）")
    MANUAL = "manual", _("管理员指定")


class Responsibility(models.Model):
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="responsibilities")
    unit = models.ForeignKey(
        Unit, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="responsibilities"
    )
    role = models.CharField(_("职责"), max_length=8, choices=ResponsibilityRole.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    basis = models.CharField(
        _("依据类型"), max_length=10, choices=ResponsibilityBasis.choices, default=ResponsibilityBasis.MANUAL
    )
    source = models.CharField(_("依据"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务分工")
        verbose_name_plural = _("任务分工")
        ordering = ["task", "order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="responsibility_unique_unit"),
            models.UniqueConstraint(fields=["task"], condition=Q(role="lead"), name="responsibility_one_lead_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task.label} {self.unit.name}（{self.get_role_display()}）"


# --- people, scopes and reporting ---------------------------------------------------------------


class Role(models.TextChoices):
    """Roles are Django groups with these names (created by a data migration)."""

    ENTRY = "填报员", _("填报员")
    REVIEWER = "审核员", _("审核员")
    LEADER = "领导", _("领导")
    ADMIN = "管理员", _("管理员")


class UserScope(models.Model):
    """What a person captures and reviews (units and/or regions) and what else they may view.

    As in DHIS2, capture and view scopes are separate: by default a person views what they capture;
    the view fields widen that. Leaders and administrators view everything.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="scope"
    )
    units = models.ManyToManyField(
        Unit,
        verbose_name=_("所属责任单位"),
        related_name="member_scopes",
        blank=True,
        help_text=_("填报、审核这些单位牵头的指标和任务"),
    )
    regions = models.ManyToManyField(
        Region,
        verbose_name=_("所属区域"),
        related_name="member_scopes",
        blank=True,
        help_text=_("填报、审核这些区域的数据；同时选择单位时取两者交集"),
    )
    view_units = models.ManyToManyField(
        Unit, verbose_name=_("另可查看的单位"), related_name="viewer_scopes", blank=True
    )
    view_regions = models.ManyToManyField(
        Region, verbose_name=_("另可查看的区域"), related_name="viewer_scopes", blank=True
    )

    history = HistoricalRecords(m2m_fields=[units, regions, view_units, view_regions])

    class Meta:
        verbose_name = _("用户范围")
        verbose_name_plural = _("用户范围")

    def __str__(self) -> str:
        return str(self.user)


class ReportingDeadline(models.Model):
    """The date by which a year's progress must be reported; 31 January of the next year by default."""

    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="deadlines")
    year = models.PositiveSmallIntegerField(_("填报年度"))
    due_on = models.DateField(_("截止日期"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("填报截止日期")
        verbose_name_plural = _("填报截止日期")
        ordering = ["plan", "year"]
        constraints = [models.UniqueConstraint(fields=["plan", "year"], name="deadline_unique_year")]

    def __str__(self) -> str:
        return f"{self.plan.short_title} {self.year}年度：{self.due_on:%Y-%m-%d}"


# --- entries under review -----------------------------------------------------------------------


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已通过")


class ReviewedEntry(models.Model):
    """What every yearly entry shares: the review workflow, optimistic locking and who did what.

    One row per item and year. Approving copies the working values into `approved_*` columns; a later
    correction reopens the row as a draft of the next revision while the approved values stay in force
    until the correction itself is approved.
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(_("版本号"), default=1, help_text=_("每次保存加一，用于防止覆盖他人修改"))
    revision = models.PositiveSmallIntegerField(_("修订次数"), default=1)
    review_comment = models.TextField(_("审核意见"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("最后修改人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("通过时间"), null=True, blank=True)

    # Set by the update services: False when a save found nothing to change (no new version was written).
    changed = True

    class Meta:
        abstract = True

    @property
    def is_locked(self) -> bool:
        return self.status in (EntryStatus.SUBMITTED, EntryStatus.APPROVED)

    @property
    def has_approved_value(self) -> bool:
        return self.approved_at is not None

    @property
    def is_correction(self) -> bool:
        """A reopened approved entry: its earlier approved values still count."""
        return self.has_approved_value and self.status != EntryStatus.APPROVED

    def current_values(self) -> dict[str, Any]:
        """The entered fields as they now stand, shown to someone whose change lost a version conflict."""
        return {}


def evidence_upload_to(instance: models.Model, filename: str) -> str:
    # Random names: the original name is kept in a column, never used as a path.
    return f"evidence/{instance._meta.model_name}/{uuid.uuid4().hex}"


class EvidenceFile(models.Model):
    """An uploaded evidence document; served only through a view that checks the entry's scope."""

    file = models.FileField(_("文件"), upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class TaskProgress(ReviewedEntry):
    """A year's progress on a task; per region when the task names regions (region milestones)."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.PROTECT, related_name="progress")
    region = models.ForeignKey(
        Region,
        verbose_name=_("区域"),
        on_delete=models.PROTECT,
        related_name="task_progress",
        null=True,
        blank=True,
    )
    narrative = models.TextField(_("工作进展"), max_length=5000)
    problems = models.TextField(_("存在问题"), max_length=3000, blank=True)
    next_steps = models.TextField(_("下步打算"), max_length=3000, blank=True)
    percent = models.DecimalField(
        _("完成百分比"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    passed = models.BooleanField(_("已通过验收/评估"), null=True, blank=True)
    approved_percent = models.DecimalField(
        _("已通过的完成百分比"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    approved_passed = models.BooleanField(_("已通过的验收结果"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False, db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务进展")
        verbose_name_plural = _("任务进展")
        ordering = ["task__order", "year", "region__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "year"], condition=Q(region__isnull=True), name="taskprogress_unique_city_year"
            ),
            models.UniqueConstraint(
                fields=["task", "year", "region"],
                condition=Q(region__isnull=False),
                name="taskprogress_unique_region_year",
            ),
        ]

    def __str__(self) -> str:
        where = f" {self.region}" if self.region_id else ""
        return f"{self.task.label} {self.task.title}{where} {self.year}年"

    def current_values(self) -> dict[str, Any]:
        return {
            "narrative": self.narrative,
            "problems": self.problems,
            "next_steps": self.next_steps,
            "percent": None if self.percent is None else str(self.percent),
            "passed": self.passed,
        }


class TaskTargetValue(models.Model):
    """The amount reported against one quantitative target in a year's task progress."""

    progress = models.ForeignKey(
        TaskProgress, verbose_name=_("任务进展"), on_delete=models.CASCADE, related_name="amounts"
    )
    target = models.ForeignKey(TaskTarget, verbose_name=_("量化目标"), on_delete=models.PROTECT, related_name="amounts")
    amount = models.DecimalField(_("本年完成"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)])
    approved_amount = models.DecimalField(_("已通过的本年完成"), max_digits=14, decimal_places=4, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目标完成量")
        verbose_name_plural = _("目标完成量")
        ordering = ["progress", "target__order"]
        constraints = [models.UniqueConstraint(fields=["progress", "target"], name="tasktargetvalue_unique")]

    def __str__(self) -> str:
        return f"{self.target.label} {self.amount.normalize():f}{self.target.unit}"


class TaskProgressEvidence(EvidenceFile):
    progress = models.ForeignKey(
        TaskProgress, verbose_name=_("任务进展"), on_delete=models.CASCADE, related_name="evidence"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务进展佐证材料")
        verbose_name_plural = _("任务进展佐证材料")
        ordering = ["uploaded_at"]


# --- stored assessments -------------------------------------------------------------------------------


class AssessmentStatus(models.TextChoices):
    """The stored statuses; codes and labels are planning.assessment's."""

    ACHIEVED = assessment.ACHIEVED, assessment.LABELS[assessment.ACHIEVED]
    AHEAD = assessment.AHEAD, assessment.LABELS[assessment.AHEAD]
    ON_TRACK = assessment.ON_TRACK, assessment.LABELS[assessment.ON_TRACK]
    WATCH = assessment.WATCH, assessment.LABELS[assessment.WATCH]
    LAGGING = assessment.LAGGING, assessment.LABELS[assessment.LAGGING]
    REGRESSING = assessment.REGRESSING, assessment.LABELS[assessment.REGRESSING]
    NO_PLAN = assessment.NO_PLAN, assessment.LABELS[assessment.NO_PLAN]
    NO_DATA = assessment.NO_DATA, assessment.LABELS[assessment.NO_DATA]


class StoredAssessment(models.Model):
    """The outcome of planning.assessment.assess, kept per item and as-of year (derived, recomputed)."""

    as_of_year = models.PositiveSmallIntegerField(_("截至年度"))
    status = models.CharField(_("状态"), max_length=12, choices=AssessmentStatus.choices)
    latest_year = models.PositiveSmallIntegerField(_("最新年度"), null=True, blank=True)
    latest_value = models.DecimalField(_("最新值"), max_digits=18, decimal_places=4, null=True, blank=True)
    baseline_value = models.DecimalField(_("基期值"), max_digits=18, decimal_places=4, null=True, blank=True)
    target_value = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    gap = models.DecimalField(_("差距"), max_digits=18, decimal_places=4, null=True, blank=True)
    completion = models.DecimalField(_("完成度"), max_digits=24, decimal_places=4, null=True, blank=True)
    expected_completion = models.DecimalField(_("应完成度"), max_digits=8, decimal_places=4, null=True, blank=True)
    ratio = models.DecimalField(_("进度比"), max_digits=24, decimal_places=4, null=True, blank=True)
    forecast_value = models.DecimalField(_("预测值"), max_digits=24, decimal_places=4, null=True, blank=True)
    forecast_meets_target = models.BooleanField(_("预测能否达标"), null=True, blank=True)
    changed_at = models.DateTimeField(_("最后变化时间"))

    class Meta:
        abstract = True

    @property
    def display(self) -> str:
        """The status as shown (achieved split by the year it was reached), from planning.assessment's vocabulary."""
        return display_status(self.status, self.latest_year, self.target_year)

    @property
    def label(self) -> str:
        return DISPLAY_LABELS[self.display]

    @property
    def target_year(self) -> int:
        raise NotImplementedError


class TaskStatus(StoredAssessment):
    """A task's assessment per as-of year: one row per target, and one for the task as a whole."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="statuses")
    target = models.ForeignKey(
        TaskTarget,
        verbose_name=_("量化目标"),
        on_delete=models.CASCADE,
        related_name="statuses",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("任务进度判定")
        verbose_name_plural = _("任务进度判定")
        ordering = ["task", "as_of_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "as_of_year"], condition=Q(target__isnull=True), name="taskstatus_unique_task"
            ),
            models.UniqueConstraint(
                fields=["task", "target", "as_of_year"],
                condition=Q(target__isnull=False),
                name="taskstatus_unique_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.as_of_year}: {self.get_status_display()}"

    @property
    def target_year(self) -> int:
        return self.target.target_year if self.target is not None else self.task.plan.period_end_year


class PendingTaskRecompute(models.Model):
    """A task whose status must be recomputed (see indicators.PendingSeriesRecompute)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(_("请求时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("待重新计算的任务")
        verbose_name_plural = _("待重新计算的任务")

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.requested_at}"


class NotificationKind(models.TextChoices):
    SUBMITTED = "submitted", _("填报待审核")
    RETURNED = "returned", _("填报被退回")
    APPROVED = "approved", _("填报已通过")
    REOPENED = "reopened", _("填报被重新打开更正")
    DEADLINE_SOON = "deadline_soon", _("填报截止临近")
    DEADLINE_PASSED = "deadline_passed", _("填报已逾期")
    WARNING = "warning", _("进度预警")


class Notification(models.Model):
    """A message to one person, shown on the 通知 page; mailed too unless the person turned that kind off."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(
        _("类型"), max_length=20, choices=NotificationKind.choices, default=NotificationKind.WARNING
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300, blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.SET_NULL, null=True, blank=True)
    # Once per person and occasion (e.g. "deadline:3:2025:14"); empty when an event may repeat.
    occasion = models.CharField(_("事由标识"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        # Created by indicators/migrations/0003; moved here with planning's workflow (the table keeps its name).
        db_table = "indicators_notification"
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "occasion"], condition=~Q(occasion=""), name="notification_once_per_occasion"
            ),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_read")]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A person's choice to receive one kind of notification by email or not (default: by email)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=NotificationKind.choices)
    email = models.BooleanField(_("发送邮件"), default=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notificationpreference_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class WebhookDelivery(models.Model):
    """One message to a unit's group robot; sent by a Celery task with retries, its outcome kept."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="webhook_deliveries")
    kind = models.CharField(_("类型"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("内容（Markdown）"))
    state = models.CharField(_("状态"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("群机器人推送")
        verbose_name_plural = _("群机器人推送")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} · {self.title}"
