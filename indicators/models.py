"""The plan's main indicators (专栏1) with their baseline and target."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from planning.assessment import DISPLAY_STATUSES
from planning.models import Column, EvidenceFile, Plan, ResponsibilityBasis, ReviewedEntry, StoredAssessment, Unit
from regions.models import Region


class Attribute(models.TextChoices):
    BINDING = "binding", _("约束性")
    EXPECTED = "expected", _("预期性")
    # The implementation plan (004) states its goals without 约束性/预期性.
    UNSPECIFIED = "unspecified", _("未标注")


class Direction(models.IntegerChoices):
    HIGHER_IS_BETTER = 1, _("越高越好")
    LOWER_IS_BETTER = -1, _("越低越好")


class Indicator(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="indicators")
    column = models.ForeignKey(
        Column,
        verbose_name=_("专栏"),
        on_delete=models.PROTECT,
        related_name="indicators",
        null=True,
        blank=True,
    )
    number = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("指标"), max_length=100)
    unit = models.CharField(_("单位"), max_length=20)
    baseline_year = models.PositiveSmallIntegerField(_("基期年"))
    # Null where the source document states no baseline (the bureau may add one later).
    baseline_value = models.DecimalField(_("基期值"), max_digits=14, decimal_places=4, null=True, blank=True)
    baseline_source = models.CharField(_("基期值来源"), max_length=200, blank=True)
    target_year = models.PositiveSmallIntegerField(_("目标年"))
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    target_qualifier = models.CharField(_("目标限定语"), max_length=10, blank=True, help_text=_("如“以上”"))
    attribute = models.CharField(_("属性"), max_length=12, choices=Attribute.choices)
    direction = models.SmallIntegerField(_("方向"), choices=Direction.choices, default=Direction.HIGHER_IS_BETTER)
    decimal_places = models.PositiveSmallIntegerField(_("小数位数"), default=2, validators=[MaxValueValidator(4)])
    max_value = models.DecimalField(
        _("填报上限"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("百分比默认不超过100；毛入学率等确可超过100时由管理员调高"),
    )
    is_additive = models.BooleanField(
        _("可跨区域加总"), default=False, help_text=_("人数等总量可加总；比率、年限不可加总。")
    )
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("牵头单位"),
        on_delete=models.PROTECT,
        related_name="lead_indicators",
        null=True,
        blank=True,
    )
    lead_unit_basis = models.CharField(
        _("牵头单位依据类型"),
        max_length=10,
        choices=ResponsibilityBasis.choices,
        default=ResponsibilityBasis.MANUAL,
    )
    lead_unit_source = models.CharField(_("牵头单位依据"), max_length=200, blank=True)
    source_document = models.CharField(_("来源文件"), max_length=200)
    source_text = models.CharField(_("原文"), max_length=300, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    # The same measure in an earlier plan: the baseline is proposed from its approved value in the baseline year.
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("上一规划的同一指标"),
        on_delete=models.SET_NULL,
        related_name="successors",
        null=True,
        blank=True,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="indicator_unique_number"),
            models.CheckConstraint(
                condition=Q(baseline_year__lt=F("target_year")), name="indicator_baseline_before_target"
            ),
            models.CheckConstraint(condition=Q(decimal_places__lte=4), name="indicator_decimal_places_max_4"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    @property
    def is_binding(self) -> bool:
        return self.attribute == Attribute.BINDING


class TargetAdjustment(models.Model):
    """A published target changed by the plan's own procedure (规划调整), effective from a year.

    The indicator keeps its original target; assessments as of the effective year and later use the adjusted one.
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="target_adjustments"
    )
    original_value = models.DecimalField(_("原目标值"), max_digits=14, decimal_places=4)
    adjusted_value = models.DecimalField(_("调整后目标值"), max_digits=14, decimal_places=4)
    effective_year = models.PositiveSmallIntegerField(_("起始年度"), help_text=_("自该年度起按调整后目标判定"))
    reason = models.CharField(_("调整原因"), max_length=300)
    document = models.CharField(_("依据文件"), max_length=200, help_text=_("如中期评估调整文件的名称和文号"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("调整人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("调整时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目标调整")
        verbose_name_plural = _("目标调整")
        ordering = ["indicator", "effective_year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "effective_year"], name="targetadjustment_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} 自{self.effective_year}年调整为 {self.adjusted_value.normalize():f}"


class IndicatorRegionTarget(models.Model):
    """A region's own 2020 baseline and 2025 target for an indicator (指标分解), set by the bureau."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="region_targets"
    )
    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="+")
    baseline_value = models.DecimalField(_("基期值"), max_digits=14, decimal_places=4, null=True, blank=True)
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4, null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("最后修改人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指标分解")
        verbose_name_plural = _("指标分解")
        ordering = ["indicator", "region__order"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region"], name="indicatorregiontarget_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} · {self.region.name}"


class IndicatorValue(ReviewedEntry):
    """A year's value of an indicator for one region (the city itself included): entered, not summed."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="values")
    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    source = models.CharField(_("数据来源"), max_length=100, help_text=_("如：统计年报、教育事业统计"))
    note = models.TextField(_("说明"), max_length=5000, blank=True)
    outlier_note = models.TextField(
        _("异常值确认说明"), max_length=2000, blank=True, help_text=_("当年变动超过规划期全部目标差距时必须说明原因")
    )
    approved_value = models.DecimalField(_("已通过的数值"), max_digits=14, decimal_places=4, null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False, db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指标数值")
        verbose_name_plural = _("指标数值")
        ordering = ["indicator__number", "region__order", "year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region", "year"], name="indicatorvalue_unique"),
        ]
        indexes = [models.Index(fields=["indicator", "year"], name="indicatorvalue_ind_year")]

    def __str__(self) -> str:
        return f"{self.indicator.name} · {self.region.name} · {self.year}年"

    def current_values(self) -> dict[str, Any]:
        return {"value": str(self.value), "source": self.source, "note": self.note}


class IndicatorValueEvidence(EvidenceFile):
    entry = models.ForeignKey(
        IndicatorValue, verbose_name=_("指标数值"), on_delete=models.CASCADE, related_name="evidence"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指标数值佐证材料")
        verbose_name_plural = _("指标数值佐证材料")
        ordering = ["uploaded_at"]


class IndicatorStatus(StoredAssessment):
    """An indicator's assessment for one region (the city included) as of a year; written set-based."""

    # Derived rows, rewritten by the set-based recompute, so no foreign-key constraints in the database: checking
    # two deferred constraints per row took a third of a national recompute (docs/benchmarks.md). Deleting an
    # indicator or a region still cascades to its rows through the ORM.
    # No index on indicator of its own: the unique (indicator, region, as_of_year) index serves those lookups.
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("指标"),
        on_delete=models.CASCADE,
        related_name="statuses",
        db_index=False,
        db_constraint=False,
    )
    # Its index is (region, as_of_year) below: a page of the region matrix reads 20 regions of one year.
    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        verbose_name = _("指标进度判定")
        verbose_name_plural = _("指标进度判定")
        ordering = ["indicator", "region", "as_of_year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region", "as_of_year"], name="indicatorstatus_unique"),
        ]
        indexes = [
            models.Index(fields=["as_of_year", "status"], name="indicatorstatus_year_status"),
            models.Index(fields=["region", "as_of_year"], name="indicatorstatus_region_year"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} · {self.region.name} · {self.as_of_year}: {self.get_status_display()}"

    @property
    def target_year(self) -> int:
        return self.indicator.target_year


class _DerivedPerRegion(models.Model):
    """A derived row of one plan × region, written in bulk by the recompute: no foreign-key constraints in the
    database (as IndicatorStatus), and no index per key (each table's own index leads with the plan, which is how
    they are read); deleting a plan or region still cascades through the ORM."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        abstract = True


class StatusFingerprint(_DerivedPerRegion):
    """The fingerprint of everything one plan × region's statuses are computed from (its approved values, its own
    baselines and targets, the plan's indicators, adjustments and parameters), as of the last recompute.

    Computed from the data itself, not from a "dirty" mark, so a recompute skips a region whose inputs are the same
    even after edits made outside the services (admin, SQL), and redoes one whose inputs changed however they did.
    """

    fingerprint = models.BigIntegerField(_("输入指纹"))
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("判定输入指纹")
        verbose_name_plural = _("判定输入指纹")
        constraints = [models.UniqueConstraint(fields=["plan", "region"], name="statusfingerprint_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.region_id}: {self.fingerprint}"


class _RegionInputHashes(_DerivedPerRegion):
    """A plan × region's two input hashes (XOR of one 64-bit hash per approved value, and per region target)."""

    values_hash = models.BigIntegerField(_("数值哈希"), default=0)
    targets_hash = models.BigIntegerField(_("分解目标哈希"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.region_id}: {self.values_hash}/{self.targets_hash}"


class StatusInput(_RegionInputHashes):
    """Per plan × region: the XOR of one 64-bit hash per approved value and one per region target — the same hashes
    the scan in indicators.status computes — so a recompute reads 3,000 rows instead of a million values.

    On PostgreSQL, triggers on the value and region-target tables log every change (whoever makes it: services,
    admin, SQL) in StatusInputChange, and the recompute folds the log in here; on SQLite the scan is used instead.
    """

    class Meta:
        verbose_name = _("判定输入哈希")
        verbose_name_plural = _("判定输入哈希")
        constraints = [models.UniqueConstraint(fields=["plan", "region"], name="statusinput_unique")]


class StatusInputChange(_RegionInputHashes):
    """A change to some regions' inputs, written by the database triggers (PostgreSQL), folded into StatusInput by
    the next recompute: an append-only log, so writers never wait on one another."""

    class Meta:
        verbose_name = _("判定输入变化")
        verbose_name_plural = _("判定输入变化")
        indexes = [models.Index(fields=["plan", "region"], name="statusinputchange_plan_region")]


class StatusCount(_DerivedPerRegion):
    """How many of a plan's indicators show each status (display vocabulary of planning.assessment) in one region as
    of a year, per lead unit: kept by the recompute, read by the overview and /api/v1/status/ instead of a scan."""

    as_of_year = models.PositiveSmallIntegerField(_("截至年度"))
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("牵头单位"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(_("状态"), max_length=14, choices=DISPLAY_STATUSES)
    count = models.PositiveIntegerField(_("数量"))

    class Meta:
        verbose_name = _("指标状态计数")
        verbose_name_plural = _("指标状态计数")
        indexes = [models.Index(fields=["plan", "region", "as_of_year"], name="statuscount_plan_region_year")]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.region_id}/{self.as_of_year}/{self.lead_unit_id}: {self.status} {self.count}"


class FlagKind(models.TextChoices):
    LAG = "lag", _("进度预警")
    OVERDUE = "overdue", _("逾期未报")


class FlagState(models.TextChoices):
    OPEN = "open", _("未解除")
    RESOLVED = "resolved", _("已解除")


class Flag(models.Model):
    """A warning raised for a lagging item or a missing entry; resolved automatically when the cause goes."""

    kind = models.CharField(_("类型"), max_length=10, choices=FlagKind.choices)
    state = models.CharField(_("状态"), max_length=10, choices=FlagState.choices, default=FlagState.OPEN)
    # Identifies the subject, e.g. "lag:indicator:12:region:3"; one open flag per key.
    key = models.CharField(_("标识"), max_length=80)
    plan = models.ForeignKey(Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="flags")
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="flags", null=True, blank=True
    )
    task = models.ForeignKey(
        "planning.Task", verbose_name=_("任务"), on_delete=models.CASCADE, related_name="flags", null=True, blank=True
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("牵头单位"), on_delete=models.SET_NULL, related_name="flags", null=True, blank=True
    )
    is_binding = models.BooleanField(_("约束性"), default=False)
    status = models.CharField(_("当时状态"), max_length=12, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    raised_at = models.DateTimeField(_("发出时间"))
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    resolution = models.CharField(_("解除原因"), max_length=200, blank=True)
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-is_binding", "-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(state="open"), name="flag_one_open_per_key"),
        ]
        indexes = [
            models.Index(fields=["state", "kind"], name="flag_state_kind"),
            # The open flags of a plan in display order (open_flags_in_order): at national scale a plan has over
            # a hundred thousand, and the first page must come from the index, not a sort of all of them.
            models.Index(
                "plan",
                "kind",
                F("is_binding").desc(),
                "indicator",
                "task",
                "region",
                condition=Q(state="open"),
                name="flag_open_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.reason}"

    @property
    def subject(self) -> str:
        if self.indicator is not None:
            name = self.indicator.name
        else:
            name = f"{self.task.label} {self.task.title}" if self.task is not None else ""
        return f"{name}（{self.region.name}）" if self.region is not None else name


class FlagCount(models.Model):
    """Open flags of a plan per region, lead unit and kind: `own` in the region itself, `total` in it and under it
    (rows of no region are the plan's task flags). Kept by the flag syncs, read by the overview and /api/v1/status/."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("区域"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("牵头单位"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(_("类型"), max_length=10, choices=FlagKind.choices)
    own = models.PositiveIntegerField(_("本区域"))
    total = models.PositiveIntegerField(_("本区域及下级"))

    class Meta:
        verbose_name = _("预警计数")
        verbose_name_plural = _("预警计数")
        indexes = [models.Index(fields=["plan", "region"], name="flagcount_plan_region")]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.region_id}/{self.lead_unit_id}/{self.kind}: {self.own}/{self.total}"


class PendingSeriesRecompute(models.Model):
    """A recompute of one indicator × region that was asked for (on approval) and has not run yet.

    Written in the same transaction as the approval, so it survives a broker outage; the task deletes it,
    and the nightly full recompute clears whatever is left. Pages say "待重新计算" while one exists.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(_("请求时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("待重新计算的指标")
        verbose_name_plural = _("待重新计算的指标")

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.region_id} @ {self.requested_at}"
