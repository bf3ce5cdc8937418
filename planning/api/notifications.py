"""Notifications API: a person's own notifications (list, mark one or all read). Nobody reaches another's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.filters import ID_LOOKUP_REGEX
from planning.filtersets import NotificationFilterSet
from planning.models import Notification, NotificationKind
from planning.notifications import notifications_mark_read
from planning.selectors import notifications_of


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, allow_null=True)
    unread = serializers.SerializerMethodField(help_text="是否未读")

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "body",
            "link",
            "unit",
            "unit_name",
            "created_at",
            "read_at",
            "unread",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "body": {"help_text": "正文（可有多行）"},
            "link": {"help_text": "相关页面在本站的路径（如 /values/12/），可为空"},
            "read_at": {"help_text": "标为已读的时间；未读时为 null"},
        }

    def get_unread(self, notification: Notification) -> bool:
        return notification.read_at is None


class NotificationReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="本次标为已读的条数（此前已读的不计）")
    detail = serializers.CharField(help_text="说明（中文）")


@extend_schema_view(
    list=extend_schema(
        summary="我的通知",
        description="当前用户本人的通知，最新的在前；可按是否未读（unread=true|false）和类型（kind）筛选。",
    ),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Notification]:
        return notifications_of(self.request.user).select_related("unit")

    @extend_schema(
        summary="标为已读",
        description="将本人的一条通知标为已读；已读的再标一次不改变已读时间。他人的通知返回 404。",
        request=None,
        responses={200: NotificationSerializer},
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        # Not get_object(): the list's filters (?unread=…) must not decide whether this one is found.
        notification = self.get_queryset().filter(pk=int(pk or 0)).first()
        if notification is None:
            raise Http404
        notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="全部标为已读",
        description="将本人的全部未读通知标为已读；带 kind 时只标该类型的。",
        request=None,
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=NotificationKind.values, description="只标这一类型（默认全部类型）"
            )
        ],
        responses={200: NotificationReadAllSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        # The kind is checked as the list checks it (the same FilterSet, the same Chinese 400).
        chosen = NotificationFilterSet({"kind": request.query_params.get("kind", "")}, queryset=self.get_queryset())
        if not chosen.is_valid():
            raise translate_validation(chosen.errors)
        marked = notifications_mark_read(user=request.user, kind=chosen.form.cleaned_data["kind"])
        return Response({"marked": marked, "detail": f"已将 {marked} 条通知标为已读。"})
