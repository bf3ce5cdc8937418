from rest_framework import serializers

from regions.models import Region


class RegionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True, help_text="类型（中文）")

    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind", "kind_label", "parent"]
