from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent", "order"]
    list_filter = ["kind", "parent"]
    search_fields = ["name", "code"]
    ordering = ["order", "code"]
    list_select_related = ["parent"]
