from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("市辖区")
    COUNTY_CITY = "county_city", _("县级市")
    COUNTY = "county", _("县")
    AUTONOMOUS_COUNTY = "autonomous_county", _("自治县")
    DEVELOPMENT_ZONE = "development_zone", _("开发区")


class RegionQuerySet(models.QuerySet["Region"]):
    def roots(self) -> RegionQuerySet:
        return self.filter(parent__isnull=True)


class Region(models.Model):
    """An administrative region: the city, or a county-level division (or a zone) under it."""

    # GB/T 2260 code; zones such as 乐山高新区 have none, hence nullable (NULLs do not collide).
    code = models.CharField(_("行政区划代码"), max_length=12, unique=True, null=True, blank=True)
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=24, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区域"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    source = models.CharField(_("来源"), max_length=200, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")
        ordering = ["order", "code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_under_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_city(self) -> bool:
        return self.kind == RegionKind.CITY
