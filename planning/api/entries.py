"""One API viewset for every kind of reviewed entry: list, read, create, update, the five actions, and evidence.

A kind's viewset names its EntryKind (planning.entries), its serializers and how a validated body becomes the
kind's input; the workflow, scope and error answers are the shared services' (config.api maps their exceptions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.filters import ID_LOOKUP_REGEX
from planning import entries
from planning.entries import EntryKind
from planning.workflow import CAPTURE, Channel

from .serializers import ReturnSerializer, TransitionSerializer, write_result

EVIDENCE_UPLOAD = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        "required": ["files"],
    }
}


def entry_schema(
    *, noun: str, read: type, create: type, update: type, result: type, example: Any
) -> Callable[[type], type]:
    """The schema of one kind's viewset: the same summaries for every kind, its own serializers and example."""
    return extend_schema_view(
        list=extend_schema(summary=f"{noun}列表", description=f"您查看范围内的{noun}填报。"),
        retrieve=extend_schema(summary=f"{noun}详情"),
        create=extend_schema(summary=f"新建{noun}草稿", request=create, responses={201: read}, examples=[example]),
        update=extend_schema(
            summary="修改草稿（需提供 version；与 PATCH 相同，未提供的字段保留原值）",
            request=update,
            responses={200: result},
        ),
        partial_update=extend_schema(
            summary="修改草稿的部分字段（需提供 version；未提供的字段保留原值，内容不变时不产生新版本）",
            request=update,
            responses={200: result},
        ),
    )


class ReviewedEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Subclasses set `kind`, `serializer_class` (the entry as read), `create_serializer_class`,
    `update_serializer_class`, `item_field` (the body's field naming the indicator or task) and `to_input`."""

    lookup_value_regex = ID_LOOKUP_REGEX
    kind: EntryKind
    create_serializer_class: type
    update_serializer_class: type
    item_field: str
    read_select_related: tuple[str, ...] = ()
    read_prefetch_related: tuple[str, ...] = ("evidence",)

    def to_input(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        return (
            self.kind.visible(self.request.user)
            .select_related(*self.read_select_related, "created_by", "updated_by")
            .prefetch_related(*self.read_prefetch_related)
        )

    def respond(self, entry: Any, code: int = status.HTTP_200_OK, **extra: Any) -> Response:
        fresh = self.get_queryset().get(pk=entry.pk)
        return Response({**self.get_serializer(fresh).data, **extra}, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.create_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = entries.entry_create(
            self.kind,
            item=data[self.item_field],
            region=data.get("region"),
            year=data["year"],
            data=self.to_input(data),
            user=request.user,
            channel=Channel.API,
        )
        return self.respond(entry, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        serializer = self.update_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = entries.entry_update(
            self.kind,
            entry,
            version=data["version"],
            data=self.to_input(data),
            user=request.user,
            channel=Channel.API,
        )
        return self.respond(saved, **write_result(saved, serializer.ignored))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def transition(self, request: Request, name: str) -> Response:
        entry = self.get_object()
        serializer = (ReturnSerializer if name == "return" else TransitionSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        extra = {"comment": serializer.validated_data.get("comment", "")} if name == "return" else {}
        done = entries.entry_transition(
            self.kind,
            entry,
            name,
            user=request.user,
            version=serializer.validated_data.get("version"),
            channel=Channel.API,
            **extra,
        )
        return self.respond(done)

    @extend_schema(summary="提交审核", request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self.transition(request, "submit")

    @extend_schema(summary="撤回为草稿", request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self.transition(request, "withdraw")

    @extend_schema(summary="审核通过", request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self.transition(request, "approve")

    @extend_schema(summary="退回修改（需填写意见）", request=ReturnSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self.transition(request, "return")

    @extend_schema(summary="发起更正（已通过的填报）", request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self.transition(request, "reopen")

    @extend_schema(
        summary="上传佐证材料",
        description="multipart/form-data，字段名 files，可多个；PDF、图片或 Office 文档，单个不超过 10 MB，"
        "每条填报最多 10 个；仅草稿或已退回的填报可上传。",
        request=EVIDENCE_UPLOAD,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        # Who may upload is answered before the body is read: a leader gets 403, whatever they sent.
        entries.authorize(self.kind, entry, request.user, CAPTURE, _("您没有修改该填报的权限。"))
        entries.evidence_add(
            self.kind, entry, files=request.FILES.getlist("files"), user=request.user, channel=Channel.API
        )
        return self.respond(entry)

    @extend_schema(summary="删除佐证材料", description="仅草稿或已退回的填报；历史记录保留谁在何时删除。", request=None)
    @action(detail=True, methods=["delete"], url_path=r"evidence/(?P<evidence_id>[0-9]{1,18})")
    def evidence_remove(self, request: Request, pk: str | None = None, evidence_id: str = "") -> Response:
        entry = self.get_object()
        entries.evidence_remove(self.kind, entry, evidence_id=int(evidence_id), user=request.user, channel=Channel.API)
        return self.respond(entry)
