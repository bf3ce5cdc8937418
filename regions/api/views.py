from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from config.filters import ID_LOOKUP_REGEX
from regions.filtersets import RegionFilterSet
from regions.models import Region

from .serializers import RegionSerializer


@extend_schema_view(
    list=extend_schema(summary="行政区域列表", description="乐山市及其下的县级行政区和乐山高新区（GB/T 2260 代码）。"),
    retrieve=extend_schema(summary="行政区域详情"),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Region.objects.select_related("parent").order_by("order", "pk")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    ordering_fields = ["order", "code", "name"]
