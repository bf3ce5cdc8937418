from django.contrib import admin

from .models import PublishedFigure


@admin.register(PublishedFigure)
class PublishedFigureAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "year",
        "measure",
        "qualifier",
        "value",
        "unit",
        "indicator",
        "source_document",
        "key",
    ]
    list_display_links = ["subject", "measure"]
    list_filter = ["province", "subject", "year", "source_document", ("indicator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "subject", "measure", "quote", "period", "location", "definition_note"]
    list_select_related = ["indicator", "region"]
    raw_id_fields = ["task_target"]
    ordering = ["province", "subject", "year", "measure"]
    fieldsets = [
        (None, {"fields": ["key", "region", "subject", "province"]}),
        ("数字", {"fields": ["measure", "qualifier", "value", "unit", "year", "period"]}),
        ("来源", {"fields": ["source_document", "source_title", "location", "quote"]}),
        ("与规划的对应", {"fields": ["indicator", "task_target", "definition_note"]}),
    ]
