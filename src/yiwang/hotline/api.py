"""12345 hotline API v1: reporting, the closed loop, inboxes, call records and figures.

Thin: serializers check shapes, `services` check permissions again, enforce the
transition table and write the timeline and the audit trail, so the API and the pages
behave the same. A ticket the caller may not see does not exist for them (404): the
centre sees every ticket, a department those it leads or supports, a citizen those
they reported. A visible ticket whose step the caller may not take is a 403 with the
reason; a step the ticket's status does not allow is a 409 naming `status`. The
reporter's phone leaves the server masked (138****0001) except to the reporter and to
the centre, whose agents call back; each centre read is audited. Public endpoints
(categories, the city's statistics, tracking by number and query code) hold no
personal data.
"""

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView, set_rollback

from yiwang.api.errors import problem_response
from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.audit.services import record
from yiwang.common.parsing import parse_id
from yiwang.crypto.fields import mask_phone
from yiwang.hotline import deadlines, metrics, routing, selectors, services
from yiwang.hotline.catalogue import ARTICLE_KIND, CATEGORY_KIND
from yiwang.hotline.models import (
    Call,
    Category,
    FollowUp,
    KnowledgeArticle,
    Postponement,
    Ticket,
    TicketEvent,
    TicketFile,
)
from yiwang.identity.models import Department, User
from yiwang.identity.permissions import IsStaff, is_staff_member
from yiwang.search.selectors import search

# Validation errors on these keys say "not in this state": a conflict, not bad input.
STATE_KEYS = frozenset({"status"})
CITIZEN_CHANNELS = (Ticket.Channel.WEB, Ticket.Channel.APP, Ticket.Channel.MINI)
# Open311 clients report through /open311/v2/, never here.
CENTRE_CHANNELS = tuple(c for c in Ticket.Channel.values if c != Ticket.Channel.OPEN311)
FILE_FIELDS = ("photos", "attachments")
QUEUES = {
    **selectors.CENTRE_QUEUES,
    **selectors.DEPARTMENT_QUEUES,
    "open": metrics.OPEN_STATUSES,
    "closed": tuple(s for s in Ticket.Status.values if s not in metrics.OPEN_STATUSES),
}
COLOURS = (deadlines.RED, deadlines.YELLOW, deadlines.GREEN)
# Steps a reporter (or anyone holding the number and query code) reads in the timeline.
PUBLIC_ACTIONS = frozenset(
    {
        "report",
        "answer",
        "register",
        "reject",
        "merge",
        "dispatch",
        "sign",
        "handle",
        "check",
        "return",
        "close",
        "reopen",
    }
)
# Notes the reporter is told anyway (by SMS): the answer, the refusal, the result.
PUBLIC_NOTES = frozenset({"answer", "reject", "handle"})
MAX_SEARCH = 20
MAX_IDS = 20


# ---------------------------------------------------------------- helpers


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        raise serializers.ValidationError(
            {
                name: [
                    _("%(name)s 应为以下之一:%(allowed)s")
                    % {"name": name, "allowed": "、".join(allowed)}
                ]
            }
        )
    return value


def _id_param(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise serializers.ValidationError({name: [_("%s 应为编号(正整数)") % name]})
    return value


def _department(pk: int | None) -> Department | None:
    if pk is None:
        return None
    department = Department.objects.filter(pk=pk).first()
    if department is None:
        raise serializers.ValidationError({"department": [_("部门 %s 不存在") % pk]})
    return department


def _category(pk: int | None, *, public_only: bool = False) -> Category | None:
    if pk is None:
        return None
    category = Category.objects.filter(pk=pk).first()
    if category is None or (public_only and not category.is_public):
        raise serializers.ValidationError(
            {"category": [_("分类 %s 不存在,请从分类列表中选择") % pk]}
        )
    return category


def _mask_name(name: str) -> str:
    """张三 → 张*: enough for a department to address the person, not to identify them."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def _person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.real_name or user.username}


def _colour(ticket: Ticket) -> str:
    if not ticket.is_open:
        return ""
    return deadlines.colour(ticket.due_at, ticket.warn_at, timezone.now())


# ---------------------------------------------------------------- serializers


class HotlineRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TicketActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_note = serializers.BooleanField(help_text="须写明理由(note)")


class TicketFileSerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField(help_text="下载地址")

    class Meta:
        model = TicketFile
        fields = [
            "id",
            "kind",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "content",
        ]

    def get_content(self, ticket_file: TicketFile) -> str:
        return reverse("hotline-file-content", args=[ticket_file.ticket_id, ticket_file.pk])


class TicketSummarySerializer(serializers.ModelSerializer):
    # Plain strings, not enums: "status"/"kind" enum names collide with other domains' schemas.
    channel = serializers.CharField(help_text="、".join(Ticket.Channel.values))
    channel_display = serializers.CharField(source="get_channel_display")
    kind = serializers.CharField(
        help_text="consult 咨询 / help 求助 / complaint 投诉 / report 举报 / suggestion 建议"
    )
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(help_text="、".join(Ticket.Status.values))
    status_display = serializers.CharField(source="get_status_display")
    category_name = serializers.CharField(source="category.name", default=None)
    lead_department_name = serializers.CharField(source="lead_department.name", default=None)
    area_name = serializers.CharField(source="area.name", default=None)
    colour = serializers.SerializerMethodField(
        help_text="当前环节时限灯:red / yellow / green;已办结为空"
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "channel",
            "channel_display",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "category",
            "category_name",
            "lead_department",
            "lead_department_name",
            "area_name",
            "address",
            "created_at",
            "due_at",
            "colour",
        ]

    def get_colour(self, ticket: Ticket) -> str:
        return _colour(ticket)


STAFF_ONLY = (
    "suggested_department",
    "suggestion_confidence",
    "escalation_level",
    "objections",
    "supporting_departments",
)


class TicketSerializer(TicketSummarySerializer):
    """One ticket; staff-only fields are blank for the reporter, contact data masked."""

    reporter_name = serializers.SerializerMethodField(help_text="反映人;热线中心和本人可见全名")
    reporter_phone = serializers.SerializerMethodField(
        help_text="联系电话;热线中心和本人可见完整号码"
    )
    query_code = serializers.SerializerMethodField(help_text="查询码:反映人和热线中心可见")
    supporting_departments = serializers.SerializerMethodField()
    repeat_of = serializers.CharField(
        source="repeat_of.number", default=None, help_text="首次工单编号"
    )
    merged_into = serializers.CharField(source="merged_into.number", default=None)
    related = serializers.SerializerMethodField(help_text="关联工单编号")
    files = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(help_text="调用者现在可以执行的操作")

    class Meta(TicketSummarySerializer.Meta):
        fields = [
            *TicketSummarySerializer.Meta.fields,
            "description",
            "latitude",
            "longitude",
            "is_anonymous",
            "reporter_name",
            "reporter_phone",
            "query_code",
            "supporting_departments",
            "dispatch_due",
            "sign_due",
            "handle_due",
            "check_due",
            "warn_at",
            "registered_at",
            "dispatched_at",
            "signed_at",
            "handled_at",
            "checked_at",
            "closed_at",
            "signed_on_time",
            "handled_on_time",
            "result",
            "objections",
            "returns",
            "reopens",
            "postponed_days",
            "escalation_level",
            "followed_up_at",
            "solved",
            "satisfaction",
            "suggested_department",
            "suggestion_confidence",
            "repeat_of",
            "merged_into",
            "related",
            "files",
            "allowed_actions",
        ]

    def _sees_contact(self, ticket: Ticket) -> bool:
        return self.context["centre"] or self._is_reporter(ticket)

    def _is_reporter(self, ticket: Ticket) -> bool:
        user = self.context["request"].user
        return ticket.reporter_id is not None and ticket.reporter_id == user.pk

    def to_representation(self, ticket: Ticket) -> dict:
        data = super().to_representation(ticket)
        if not self.context["staff"]:
            data.update({name: None for name in STAFF_ONLY})
        return data

    def get_reporter_name(self, ticket: Ticket) -> str:
        name = ticket.reporter_name
        return name if self._sees_contact(ticket) else _mask_name(name)

    def get_reporter_phone(self, ticket: Ticket) -> str:
        phone = ticket.reporter_phone
        if not phone:
            return ""
        if self._is_reporter(ticket):
            return phone
        if self.context["centre"] and self.context.get("reveal", True):
            self.context["revealed"].append(ticket)
            return phone
        return mask_phone(phone)

    def get_query_code(self, ticket: Ticket) -> str:
        return ticket.query_code if self._sees_contact(ticket) else ""

    @extend_schema_field(HotlineRefSerializer(many=True))
    def get_supporting_departments(self, ticket: Ticket) -> list[dict]:
        return [{"id": d.pk, "name": d.name} for d in ticket.supporting_departments.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_related(self, ticket: Ticket) -> list[str]:
        visible = selectors.visible_tickets(self.context["request"].user)
        return list(
            ticket.related.filter(pk__in=visible.values("pk"))
            .order_by("number")
            .values_list("number", flat=True)
        )

    @extend_schema_field(TicketFileSerializer(many=True))
    def get_files(self, ticket: Ticket) -> list[dict]:
        return TicketFileSerializer(ticket.files.all(), many=True).data

    @extend_schema_field(TicketActionSerializer(many=True))
    def get_allowed_actions(self, ticket: Ticket) -> list[dict]:
        user = self.context["request"].user
        return [
            {
                "name": action,
                "label": _(services.ACTION_LABELS[action]),
                "needs_note": services.TRANSITIONS[action].needs_note,
            }
            for action in services.allowed_actions(user, ticket)
        ]


class TicketCreateSerializer(serializers.Serializer):
    channel = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=10,
        help_text="市民:web / app / mini(默认 web);热线中心:phone(默认)、company、inspector 等",
    )
    kind = serializers.CharField(
        max_length=12, help_text="consult / help / complaint / report / suggestion"
    )
    description = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="诉求内容,5 至 5000 字"
    )
    category = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="末级分类编号"
    )
    address = serializers.CharField(required=False, allow_blank=True, default="")
    latitude = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    longitude = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    reporter_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=60
    )
    reporter_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        help_text="联系电话;市民默认账号手机号",
    )
    is_anonymous = serializers.BooleanField(required=False, default=False)
    call_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="话务员:关联的来电话单编号",
    )


class TicketCreateMultipartSerializer(TicketCreateSerializer):
    """Only for the schema: the same fields, plus the files."""

    photos = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="现场照片,JPG 或 PNG,最多 9 张"
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="附件,PDF 或图片"
    )


class TicketActSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=20, help_text="见工单的 allowed_actions")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="理由或说明"
    )
    department = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="派单:主办部门编号"
    )
    supporting = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=MAX_IDS,
        help_text="派单:协办部门编号",
    )
    result = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="处置:处置结果"
    )
    into = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20, help_text="合并:目标工单编号"
    )
    category = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="立案、核实:分类编号"
    )


class TicketActMultipartSerializer(TicketActSerializer):
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="处置结果照片"
    )


class TicketEventSerializer(serializers.ModelSerializer):
    """A timeline line; the reporter reads the steps, staff everything."""

    label = serializers.SerializerMethodField()
    to_status_display = serializers.SerializerMethodField()
    department_name = serializers.CharField(source="department.name", default=None)
    actor = serializers.SerializerMethodField(help_text="工作人员可见:操作人")
    note = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "at",
            "action",
            "label",
            "from_status",
            "to_status",
            "to_status_display",
            "department_name",
            "actor",
            "note",
            "seconds",
            "files",
        ]

    def get_label(self, event: TicketEvent) -> str:
        return _(services.ACTION_LABELS.get(event.action, event.action))

    def get_to_status_display(self, event: TicketEvent) -> str:
        return (
            str(Ticket.Status(event.to_status).label)
            if event.to_status in Ticket.Status.values
            else ""
        )

    @extend_schema_field(HotlineRefSerializer(allow_null=True))
    def get_actor(self, event: TicketEvent) -> dict | None:
        return _person(event.actor) if self.context["staff"] else None

    def get_note(self, event: TicketEvent) -> str:
        return event.note if self.context["staff"] or event.action in PUBLIC_NOTES else ""

    @extend_schema_field(TicketFileSerializer(many=True))
    def get_files(self, event: TicketEvent) -> list[dict]:
        return TicketFileSerializer(event.files.all(), many=True).data


class FollowUpInputSerializer(serializers.Serializer):
    channel = serializers.CharField(
        max_length=6, help_text="web 网站(反映人本人)/ phone 电话回访(话务员)"
    )
    reached = serializers.BooleanField(
        required=False, default=True, help_text="电话回访:是否联系上"
    )
    solved = serializers.BooleanField(required=False, allow_null=True, default=None)
    level = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="1 非常满意 … 5 非常不满意"
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(help_text="sms 短信链接 / web 网站 / phone 电话回访")
    outcome = serializers.CharField(
        help_text="closed 结案 / returned 发回重办 / not_reached 未联系上"
    )
    outcome_display = serializers.CharField(source="get_outcome_display")
    ticket_status = serializers.CharField(source="ticket.status")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "ticket",
            "at",
            "channel",
            "reached",
            "solved",
            "level",
            "comment",
            "outcome",
            "outcome_display",
            "ticket_status",
        ]


class PostponementRequestSerializer(serializers.Serializer):
    days = serializers.DecimalField(
        max_digits=4, decimal_places=1, help_text="延期工作日,0.5 至 30,可含半天"
    )
    reason = serializers.CharField(allow_blank=True)


class PostponementDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="不同意时必填"
    )


class PostponementSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number")
    department_name = serializers.CharField(source="department.name")
    status_display = serializers.CharField(source="get_status_display")

    class Meta:
        model = Postponement
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "department",
            "department_name",
            "days",
            "reason",
            "status",
            "status_display",
            "requested_at",
            "decided_at",
            "decision_note",
            "old_due",
            "new_due",
        ]


class TicketLinkSerializer(serializers.Serializer):
    other = serializers.CharField(max_length=20, help_text="要关联的工单编号")


class TicketCommentSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)


class RoutingSuggestionSerializer(serializers.Serializer):
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    confidence = serializers.FloatField(help_text="0 至 1")


class RoutingSuggestionsSerializer(serializers.Serializer):
    suggestions = RoutingSuggestionSerializer(many=True)
    catalogue_department = HotlineRefSerializer(
        allow_null=True, help_text="派单目录中该分类的承办部门"
    )
    auto_dispatch_threshold = serializers.FloatField(
        allow_null=True, help_text="自动派单阈值;为空则不自动派单"
    )


class CallInputSerializer(serializers.Serializer):
    call_id = serializers.CharField(max_length=64)
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    caller_phone = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20
    )
    line = serializers.CharField(
        required=False, default="citizen", max_length=10, help_text="citizen / company"
    )
    agent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="接听话务员的账号编号"
    )


class HotlineCallSerializer(serializers.ModelSerializer):
    caller_phone = serializers.SerializerMethodField(help_text="脱敏来电号码")
    ticket_number = serializers.CharField(source="ticket.number", default=None)

    class Meta:
        model = Call
        fields = [
            "id",
            "call_id",
            "line",
            "caller_phone",
            "started_at",
            "answered_at",
            "ended_at",
            "agent",
            "ticket",
            "ticket_number",
        ]

    def get_caller_phone(self, call: Call) -> str:
        return mask_phone(call.caller_phone)


class HotlineCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_leaf = serializers.BooleanField()
    department = HotlineRefSerializer(allow_null=True, help_text="派单目录:承办部门")
    children = serializers.ListField(child=serializers.DictField(), help_text="下级分类,结构相同")


class HotlineCategoryHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField(help_text="“城市管理 / 路灯不亮或损坏”")


class KnowledgeArticleSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", default=None)
    department_name = serializers.CharField(source="department.name", default=None)

    class Meta:
        model = KnowledgeArticle
        fields = [
            "id",
            "title",
            "question",
            "answer",
            "category",
            "category_name",
            "department_name",
            "updated_at",
        ]


class TicketTrackSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    kind_display = serializers.CharField()
    category_name = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    steps = inline_serializer(
        "HotlineTrackStep",
        {"at": serializers.DateTimeField(), "label": serializers.CharField()},
        many=True,
    )


FIGURES = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="period、figures(各项比率含 numerator、denominator、rate)及各项分布;"
    "口径见 docs/hotline-metrics.md",
)


# ---------------------------------------------------------------- shared view pieces


def _is_state_conflict(exc: DjangoValidationError) -> bool:
    return hasattr(exc, "error_dict") and set(exc.error_dict) <= STATE_KEYS


class HotlineView(APIView):
    """403 keeps the service's reason, 409 for steps the status does not allow, and an
    oversized form is a 400, so no refusal becomes a 500."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError) and _is_state_conflict(exc):
            set_rollback()
            errors = exc.message_dict
            first = next(iter(errors.values()))[0]
            return problem_response(409, _("与工单当前状态冲突"), first, errors, "conflict")
        if isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        elif isinstance(exc, SuspiciousOperation):
            exc = exceptions.ValidationError(
                {"non_field_errors": [_("请求内容过大或字段过多,照片请压缩后分次上传")]}
            )
        return super().handle_exception(exc)

    def ticket(self, pk: int) -> Ticket:
        """A ticket the caller may see; any other is a 404, so its existence does not leak."""
        tickets = selectors.visible_tickets(self.request.user)
        return get_object_or_404(
            tickets.select_related("category", "lead_department", "area"), pk=pk
        )

    def ticket_data(
        self, ticket: Ticket, code: int = status.HTTP_200_OK, *, reveal: bool = True
    ) -> Response:
        """The ticket as the caller may see it. Answers to a step (`reveal=False`) mask the
        reporter's phone for the centre too: only reading the ticket shows it in full, and
        each such read is a data-use record."""
        user = self.request.user
        ticket = (
            Ticket.objects.select_related(
                "category", "lead_department", "area", "repeat_of", "merged_into"
            )
            .prefetch_related("supporting_departments")
            .get(pk=ticket.pk)
        )
        revealed: list[Ticket] = []
        context = {
            "request": self.request,
            "staff": is_staff_member(user),
            "centre": services.is_centre_staff(user),
            "revealed": revealed,
            "reveal": reveal,
        }
        data = TicketSerializer(ticket, context=context).data
        if revealed:
            with transaction.atomic():
                record(
                    user,
                    "hotline.reporter_phone_revealed",
                    ticket,
                    after={"field": "reporter_phone"},
                )
        return Response(data, status=code)


JSON_OR_MULTIPART = [JSONParser, MultiPartParser, FormParser]


def _other_ticket(user: Any, raw: str, field: str) -> Ticket:
    """Another ticket the caller may see, by number (or id)."""
    raw = (raw or "").strip()
    tickets = selectors.visible_tickets(user)
    found = tickets.filter(number=raw).first() if raw else None
    if found is None and parse_id(raw) is not None:
        found = tickets.filter(pk=parse_id(raw)).first()
    if found is None:
        raise serializers.ValidationError({field: [_("工单 %s 不存在,请核对工单编号") % raw]})
    return found


def _uploads(request: Request, allowed: tuple[str, ...]) -> dict[str, list]:
    unexpected = sorted(set(request.FILES) - set(allowed))
    if unexpected:
        raise serializers.ValidationError(
            {name: [_("文件字段应为:%s") % "、".join(allowed)] for name in unexpected}
        )
    return {name: request.FILES.getlist(name) for name in allowed}


# ---------------------------------------------------------------- categories and knowledge


def _category_tree(staff: bool) -> list[dict]:
    categories = Category.objects.filter(is_active=True).select_related("department")
    if not staff:
        categories = categories.filter(is_public=True)
    nodes = {c.pk: c for c in categories}
    children: dict[int | None, list[Category]] = {}
    for category in nodes.values():
        parent = category.parent_id if category.parent_id in nodes else None
        if category.parent_id is not None and parent is None:
            continue  # under an inactive or unpublished group
        children.setdefault(parent, []).append(category)

    def build(parent: int | None) -> list[dict]:
        rows = sorted(children.get(parent, []), key=lambda c: (c.sort_order, c.code))
        return [
            {
                "id": c.pk,
                "code": c.code,
                "name": c.name,
                "description": c.description,
                "is_leaf": c.pk not in children,
                "department": {"id": c.department_id, "name": c.department.name}
                if c.department_id
                else None,
                "children": build(c.pk),
            }
            for c in rows
        ]

    return build(None)


class CategoryTreeView(HotlineView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="工单分类树",
        description="启用的分类,末级分类含派单目录中的承办部门。市民和未登录用户只看到对外公开的分类。",
        responses={200: HotlineCategorySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(_category_tree(is_staff_member(request.user)))


class CategorySearchView(HotlineView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="搜索工单分类",
        description="按群众的说法找末级分类(如“路灯坏了”),最相关的在前;q 为空时按名称列出。",
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("limit", int, description="最多 20"),
        ],
        responses={200: HotlineCategoryHitSerializer(many=True), **problems(400)},
    )
    def get(self, request: Request) -> Response:
        facets = {"leaf": "1", "active": "1"}
        if not is_staff_member(request.user):
            facets["public"] = "1"
        query = request.query_params.get("q", "")[:100]
        page = search(CATEGORY_KIND, query, facets=facets, limit=_limit(request))
        ids = [hit.object_id for hit in page.hits]
        found = Category.objects.filter(pk__in=ids, is_active=True).select_related("parent")
        by_id = {c.pk: c for c in found}
        return Response(
            [
                {"id": c.pk, "code": c.code, "name": c.name, "path": c.path_name}
                for c in (by_id[i] for i in ids if i in by_id)
            ]
        )


def _limit(request: Request) -> int:
    limit = _id_param(request.query_params, "limit")
    return min(limit or 10, MAX_SEARCH)


class KnowledgeSearchView(HotlineView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="搜索知识库",
        description="话务员答复咨询用的答复口径,最相关的在前。",
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("limit", int, description="最多 20"),
        ],
        responses={200: KnowledgeArticleSerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = search(
            ARTICLE_KIND,
            request.query_params.get("q", "")[:100],
            facets={"active": "1"},
            limit=_limit(request),
        )
        ids = [hit.object_id for hit in page.hits]
        articles = KnowledgeArticle.objects.filter(pk__in=ids, is_active=True).select_related(
            "category", "department"
        )
        by_id = {a.pk: a for a in articles}
        return Response(
            KnowledgeArticleSerializer([by_id[i] for i in ids if i in by_id], many=True).data
        )


# ---------------------------------------------------------------- tickets


TICKET_FILTERS = [
    OpenApiParameter(
        "queue", str, enum=list(QUEUES), description="工作队列;open 未办结,closed 已办结"
    ),
    OpenApiParameter("colour", str, enum=list(COLOURS)),
    OpenApiParameter("status", str, enum=Ticket.Status.values),
    OpenApiParameter("kind", str, enum=Ticket.Kind.values),
    OpenApiParameter("category", int, description="分类编号(含其下级)"),
    OpenApiParameter("q", str, description="工单编号前缀,或诉求内容中的文字"),
]


def _filtered(tickets: QuerySet[Ticket], params: Mapping[str, str]) -> QuerySet[Ticket]:
    queue = _choice(params, "queue", tuple(QUEUES))
    colour = _choice(params, "colour", COLOURS)
    wanted = _choice(params, "status", tuple(Ticket.Status.values))
    kind = _choice(params, "kind", tuple(Ticket.Kind.values))
    category = _id_param(params, "category")
    query = (params.get("q") or "").strip()[:100]
    if queue:
        tickets = tickets.filter(status__in=QUEUES[queue])
    if wanted:
        tickets = tickets.filter(status=wanted)
    if kind:
        tickets = tickets.filter(kind=kind)
    if category is not None:
        tickets = tickets.filter(Q(category_id=category) | Q(category__parent_id=category))
    if colour:
        now = timezone.now()
        tickets = tickets.filter(status__in=metrics.OPEN_STATUSES)
        if colour == deadlines.RED:
            tickets = tickets.filter(due_at__lt=now)
        elif colour == deadlines.YELLOW:
            tickets = tickets.filter(due_at__gte=now, warn_at__lte=now)
        else:
            tickets = tickets.filter(due_at__gte=now).filter(
                Q(warn_at__isnull=True) | Q(warn_at__gt=now)
            )
    if query:
        if query.isdigit():
            tickets = tickets.filter(number__startswith=query)
        else:
            tickets = tickets.filter(description__contains=query)
    return tickets


class TicketListView(HotlineView, generics.GenericAPIView):
    parser_classes = JSON_OR_MULTIPART
    serializer_class = TicketSummarySerializer
    queryset = Ticket.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self) -> QuerySet[Ticket]:
        tickets = selectors.visible_tickets(self.request.user)
        tickets = _filtered(tickets, self.request.query_params)
        return tickets.select_related("category", "lead_department", "area").order_by(
            "-created_at", "-id"
        )

    @extend_schema(
        summary="工单列表",
        description="调用者可见的工单,最新的在前:热线中心全部,部门为其主办或协办的,市民为本人反映的。",
        parameters=TICKET_FILTERS,
        responses={200: TicketSummarySerializer(many=True), **problems(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TicketSummarySerializer(page, many=True).data)

    @extend_schema(
        summary="反映问题(登记工单)",
        description=(
            "市民通过网站、移动端或小程序反映(channel 为 web、app 或 mini);热线中心话务员"
            "登记来电(channel 默认 phone,可用 call_id 关联话单)。multipart 时照片字段名为 "
            "photos(可多张),附件为 attachments;文件按内容识别类型。任何一项不合格,什么都不会保存。"
        ),
        request={
            "application/json": TicketCreateSerializer,
            "multipart/form-data": TicketCreateMultipartSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TicketSerializer, **problems(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = request.user
        # The centre's intake (operators, inspectors) registers for callers; citizens report.
        centre = services.is_party(user, services.OPERATOR) or services.is_party(
            user, services.CHECKER
        )
        if is_staff_member(user) and not centre:
            raise exceptions.PermissionDenied(_("只有 12345 热线中心的话务员可以代群众登记工单"))
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channels = CENTRE_CHANNELS if centre else CITIZEN_CHANNELS
        channel = data["channel"] or channels[0]
        if channel not in channels:
            raise serializers.ValidationError(
                {"channel": [_("来源渠道应为:%s") % "、".join(channels)]}
            )
        call = None
        if data["call_id"]:
            call = Call.objects.filter(call_id=data["call_id"]).first() if centre else None
            if call is None:
                raise serializers.ValidationError(
                    {"call_id": [_("话单 %s 不存在;请先由话务系统上报来电") % data["call_id"]]}
                )
        files = _uploads(request, FILE_FIELDS)
        ticket = services.report(
            user,
            channel=channel,
            kind=data["kind"],
            description=data["description"],
            category=_category(data.get("category"), public_only=not centre),
            address=data["address"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            reporter_name=data["reporter_name"],
            reporter_phone=data["reporter_phone"],
            is_anonymous=data["is_anonymous"],
            photos=files["photos"],
            attachments=files["attachments"],
            call=call,
        )
        return self.ticket_data(ticket, status.HTTP_201_CREATED, reveal=False)


class TicketDetailView(HotlineView):
    @extend_schema(
        summary="工单详情",
        description="联系电话对热线中心和反映人本人完整显示(热线中心的每次查看记入审计),对其他人脱敏。",
        responses={200: TicketSerializer, **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.ticket_data(self.ticket(pk))


class TicketActView(HotlineView):
    parser_classes = JSON_OR_MULTIPART

    @extend_schema(
        summary="流转工单:立案、派单、签收、退单、处置、核查、结案等",
        description=(
            "action 取工单 allowed_actions 中的一项;needs_note 的操作须写明 note。派单可给 "
            "department(默认派单目录中的部门)和 supporting;处置须写 result,multipart 时可附 "
            "photos;合并须给 into(目标工单编号);立案可给 category。当前状态不允许时 409。"
        ),
        request={
            "application/json": TicketActSerializer,
            "multipart/form-data": TicketActMultipartSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={200: TicketSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        serializer = TicketActSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        supporting = []
        if data["supporting"]:
            found = {d.pk: d for d in Department.objects.filter(pk__in=data["supporting"])}
            missing = [str(i) for i in data["supporting"] if i not in found]
            if missing:
                raise serializers.ValidationError(
                    {"supporting": [_("部门 %s 不存在") % "、".join(missing)]}
                )
            supporting = list(found.values())
        photos = _uploads(request, ("photos",))["photos"]
        ticket = services.act(
            request.user,
            ticket,
            data["action"],
            note=data["note"],
            department=_department(data.get("department")),
            supporting=supporting,
            result=data["result"],
            into=_other_ticket(request.user, data["into"], "into") if data["into"] else None,
            category=_category(data.get("category")),
            photos=photos,
        )
        return self.ticket_data(ticket, reveal=False)


class TicketTimelineView(HotlineView):
    @extend_schema(
        summary="工单流转记录",
        description="反映人看到各个环节和时间;工作人员另可看到操作人、说明和内部记录。",
        responses={200: TicketEventSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        staff = is_staff_member(request.user)
        events = selectors.timeline(ticket)
        if not staff:
            events = events.filter(action__in=PUBLIC_ACTIONS)
        return Response(TicketEventSerializer(events, many=True, context={"staff": staff}).data)


class TicketFileContentView(HotlineView):
    @extend_schema(
        summary="下载工单照片或附件",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **problems(401, 404),
        },
    )
    def get(self, request: Request, pk: int, file_id: int) -> FileResponse:
        ticket_file = get_object_or_404(self.ticket(pk).files.all(), pk=file_id)
        response = FileResponse(
            ticket_file.file.open("rb"), as_attachment=True, filename=ticket_file.filename
        )
        response["Content-Type"] = ticket_file.content_type
        response["Cache-Control"] = "private, no-store"
        return response


class TicketFollowUpView(HotlineView):
    @extend_schema(
        summary="回访评价",
        description=(
            "反映人本人在网站评价(channel=web),或话务员记录电话回访(channel=phone,联系不上时 "
            "reached=false)。满意(已解决且 1–3 级)则结案;不满意则发回重办一次,"
            "再次不满意按不满意结案。"
        ),
        request=FollowUpInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: FollowUpSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        serializer = FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.follow_up(request.user, ticket, **serializer.validated_data)
        entry = FollowUp.objects.select_related("ticket").get(pk=entry.pk)
        return Response(FollowUpSerializer(entry).data, status=status.HTTP_201_CREATED)


class TicketPostponementsView(HotlineView):
    @extend_schema(
        summary="工单的延期申请",
        responses={200: PostponementSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        rows = self.ticket(pk).postponements.select_related("ticket", "department")
        return Response(PostponementSerializer(rows, many=True).data)

    @extend_schema(
        summary="申请延期",
        description="主办部门在处置中申请延期(工作日,可含半天),由热线中心派遣员审批;同一时间只能有一个待审批的申请。",
        request=PostponementRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: PostponementSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        serializer = PostponementRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.request_postponement(request.user, ticket, **serializer.validated_data)
        return Response(PostponementSerializer(entry).data, status=status.HTTP_201_CREATED)


def _visible_postponements(user: Any) -> QuerySet[Postponement]:
    tickets = selectors.visible_tickets(user)
    return Postponement.objects.filter(ticket__in=tickets.values("pk")).select_related(
        "ticket", "department"
    )


class PostponementListView(HotlineView, generics.GenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = PostponementSerializer
    queryset = Postponement.objects.none()  # for the schema

    @extend_schema(
        summary="延期申请列表",
        description="热线中心看到全部,部门看到本部门的;默认只列待审批的(status=pending),最早的在前。",
        parameters=[OpenApiParameter("status", str, enum=Postponement.Status.values)],
        responses={200: PostponementSerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        wanted = _choice(request.query_params, "status", tuple(Postponement.Status.values))
        rows = _visible_postponements(request.user).filter(
            status=wanted or Postponement.Status.PENDING
        )
        page = self.paginate_queryset(rows.order_by("requested_at", "id"))
        return self.get_paginated_response(PostponementSerializer(page, many=True).data)


class PostponementDecisionView(HotlineView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="审批延期申请",
        description="热线中心派遣员审批;同意则办结期限顺延,不同意须写明理由。"
        "已审批的再次审批为 409。",
        request=PostponementDecisionSerializer,
        responses={200: PostponementSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = get_object_or_404(_visible_postponements(request.user), pk=pk)
        serializer = PostponementDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.decide_postponement(request.user, entry, **serializer.validated_data)
        return Response(PostponementSerializer(entry).data)


class TicketLinkView(HotlineView):
    @extend_schema(
        summary="关联工单",
        description="话务员把说同一件事的两张工单关联起来(不合并)。",
        request=TicketLinkSerializer,
        responses={200: TicketSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        serializer = TicketLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = _other_ticket(request.user, serializer.validated_data["other"], "other")
        return self.ticket_data(services.link(request.user, ticket, other), reveal=False)


class TicketCommentView(HotlineView):
    @extend_schema(
        summary="添加备注",
        description="能看到该工单的工作人员(含协办部门)添加备注,不改变状态。",
        request=TicketCommentSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TicketEventSerializer, **problems(400, 401, 403, 404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        serializer = TicketCommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.comment(request.user, ticket, serializer.validated_data["note"])
        return Response(
            TicketEventSerializer(event, context={"staff": True}).data,
            status=status.HTTP_201_CREATED,
        )


class TicketSuggestionsView(HotlineView):
    @extend_schema(
        summary="智能派单建议",
        description="按诉求内容建议最可能的三个承办部门及置信度(0–1),并给出派单目录中的部门;仅热线中心可用。",
        responses={200: RoutingSuggestionsSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        ticket = self.ticket(pk)
        if not services.is_centre_staff(request.user):
            raise exceptions.PermissionDenied(_("智能派单建议仅供 12345 热线中心使用"))
        catalogue = (
            ticket.category.department
            if ticket.category_id and ticket.category.department_id
            else None
        )
        return Response(
            {
                "suggestions": [
                    {
                        "department": s.department_id,
                        "department_name": s.department_name,
                        "confidence": round(s.confidence, 4),
                    }
                    for s in routing.suggest(ticket.description, 3)
                ],
                "catalogue_department": {"id": catalogue.pk, "name": catalogue.name}
                if catalogue
                else None,
                "auto_dispatch_threshold": services.auto_dispatch_threshold(),
            }
        )


# ---------------------------------------------------------------- inboxes and calls


class InboxView(HotlineView, generics.GenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = TicketSummarySerializer
    queryset = Ticket.objects.none()  # for the schema

    @extend_schema(
        summary="待办工单(热线中心或部门)",
        description=(
            "side=centre:热线中心的待核实、待派单、待核查、待回访工单(需热线中心岗位);"
            "side=department:部门待签收、处置中的工单(department 须为本人有岗位的部门,默认第一个)。"
            "时限最紧的在前;counts 为各队列的数量及红灯、黄灯数。"
        ),
        parameters=[
            OpenApiParameter("side", str, enum=["centre", "department"]),
            OpenApiParameter("department", int),
            OpenApiParameter(
                "queue", str, enum=[*selectors.CENTRE_QUEUES, *selectors.DEPARTMENT_QUEUES]
            ),
            OpenApiParameter("colour", str, enum=list(COLOURS)),
            OpenApiParameter("category", int),
            OpenApiParameter("kind", str, enum=Ticket.Kind.values),
            OpenApiParameter("q", str),
        ],
        responses={200: TicketSummarySerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        user, params = request.user, request.query_params
        centre = services.is_centre_staff(user)
        side = _choice(params, "side", ("centre", "department")) or (
            "centre" if centre else "department"
        )
        department = None
        if side == "centre":
            if not centre:
                raise exceptions.PermissionDenied(
                    _("只有 12345 热线中心的工作人员可以查看中心待办")
                )
            queues = selectors.CENTRE_QUEUES
        else:
            mine = metrics.own_departments(user)
            wanted = _id_param(params, "department")
            department = next((d for d in mine if wanted in (None, d.pk)), None)
            if department is None:
                raise exceptions.PermissionDenied(_("您在该部门没有岗位,不能查看其待办"))
            queues = selectors.DEPARTMENT_QUEUES
        filters = selectors.TicketFilters(
            queue=_choice(params, "queue", tuple(queues)),
            colour=_choice(params, "colour", COLOURS),
            query=(params.get("q") or "")[:100],
            category=_id_param(params, "category"),
            kind=_choice(params, "kind", tuple(Ticket.Kind.values)),
        )
        if department is None:
            tickets, counted = selectors.centre_tickets(filters), Ticket.objects.all()
        else:
            tickets = selectors.department_tickets(department.pk, filters)
            counted = Ticket.objects.filter(lead_department=department)
        page = self.paginate_queryset(tickets)
        response = self.get_paginated_response(TicketSummarySerializer(page, many=True).data)
        response.data["side"] = side
        response.data["department"] = (
            {"id": department.pk, "name": department.name} if department else None
        )
        response.data["counts"] = selectors.queue_counts(counted, queues)
        response.data["pending_postponements"] = selectors.pending_postponements(
            department.pk if department else None
        ).count()
        return response


class CallsView(HotlineView):
    @extend_schema(
        summary="上报来电话单(CTI)",
        description="话务系统上报呼入、接通、挂机时间,用于接通率;"
        "同一 call_id 再次上报为更新(200),不会重复计数。",
        request=CallInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: HotlineCallSerializer,
            200: HotlineCallSerializer,
            **problems(400, 401, 403),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        if not services.is_party(request.user, services.OPERATOR):
            raise exceptions.PermissionDenied(_("只有 12345 热线中心可以上报话单"))
        serializer = CallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        agent_id = data.pop("agent", None)
        agent = None
        if agent_id is not None:
            agent = User.objects.filter(pk=agent_id, kind=User.Kind.STAFF).first()
            if agent is None:
                raise serializers.ValidationError({"agent": [_("话务员账号 %s 不存在") % agent_id]})
        known = Call.objects.filter(call_id=data["call_id"].strip()).exists()
        call = services.record_call(request.user, agent=agent, **data)
        call = Call.objects.select_related("ticket").get(pk=call.pk)
        return Response(
            HotlineCallSerializer(call).data,
            status=status.HTTP_200_OK if known else status.HTTP_201_CREATED,
        )


# ---------------------------------------------------------------- figures and tracking


PERIOD_PARAMS = [
    OpenApiParameter(
        "period",
        str,
        enum=list(metrics.PERIOD_FIELDS),
        description="统计方式;省略时按给出的参数判断",
    ),
    OpenApiParameter("month", str, description="按月:2026-11(默认本月)"),
    OpenApiParameter("week", str, description="按周:2026-W47"),
    OpenApiParameter("from", str, description="自定义:开始日期 2026-11-01"),
    OpenApiParameter("to", str, description="自定义:结束日期(含),最长 366 天"),
]


class MetricsView(HotlineView):
    @extend_schema(
        summary="工单统计(工作人员)",
        description=(
            "接通率、按时签收率、按时办结率、回访率、满意率、发回重办率、退单、重复诉求,"
            "按渠道、类型、分类、街道的分布,在办工单,近 12 个月趋势;全市时另有部门排名。"
            "热线中心和平台管理员看全市或任一部门(department),部门工作人员只看本部门。"
            "数据最多延迟一分钟。"
        ),
        parameters=[*PERIOD_PARAMS, OpenApiParameter("department", int)],
        responses={200: FIGURES, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        scope = metrics.scope_for(request.user, request.query_params.get("department"))
        period = metrics.parse_period(request.query_params)
        return Response(metrics.dashboard_figures(period, scope.department))


class StatsView(HotlineView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="12345 热线公开统计",
        description="全市汇总数字,不含任何个人信息和单张工单:总量、接通率、按时办结率、回访率、满意率,"
        "按渠道、类型、分类、街道的分布和近 12 个月趋势。数据最多延迟十分钟。",
        parameters=PERIOD_PARAMS,
        responses={200: FIGURES, **problems(400)},
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.published_figures(metrics.parse_period(request.query_params)))


class TrackThrottle(ScopedRateThrottle):
    """Per client address, so the 6-digit query code cannot be guessed by brute force;
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["hotline_track"] overrides the default."""

    DEFAULT_RATES = {"hotline_track": "30/min"}

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            return rates[self.scope]
        return self.DEFAULT_RATES.get(self.scope)


class TrackView(HotlineView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # the number and code are the credential
    throttle_classes = [TrackThrottle]
    throttle_scope = "hotline_track"

    @extend_schema(
        summary="按工单编号和查询码查询进度(公开)",
        description="不含诉求内容、地址和反映人信息;编号或查询码不对时 404。",
        parameters=[
            OpenApiParameter("number", str, required=True),
            OpenApiParameter("code", str, required=True),
        ],
        responses={200: TicketTrackSerializer, **problems(404, 429)},
    )
    def get(self, request: Request) -> Response:
        number = (request.query_params.get("number") or "").strip()[:20]
        code = (request.query_params.get("code") or "").strip()[:6]
        ticket = (
            Ticket.objects.select_related("category").filter(number=number).first()
            if number
            else None
        )
        if (
            ticket is None
            or not ticket.query_code
            or not secrets.compare_digest(ticket.query_code, code)
        ):
            raise exceptions.NotFound(_("工单编号或查询码不正确"))
        events = ticket.events.filter(action__in=PUBLIC_ACTIONS).order_by("at", "id")
        return Response(
            {
                "number": ticket.number,
                "status": ticket.status,
                "status_display": ticket.get_status_display(),
                "kind_display": ticket.get_kind_display(),
                "category_name": ticket.category.name if ticket.category_id else None,
                "created_at": ticket.created_at,
                "closed_at": ticket.closed_at,
                "steps": [
                    {"at": e.at, "label": _(services.ACTION_LABELS.get(e.action, e.action))}
                    for e in events
                ],
            }
        )


urlpatterns = [
    path("hotline/categories/", CategoryTreeView.as_view(), name="hotline-categories"),
    path(
        "hotline/categories/search/", CategorySearchView.as_view(), name="hotline-category-search"
    ),
    path("hotline/knowledge/", KnowledgeSearchView.as_view(), name="hotline-knowledge"),
    path("hotline/tickets/", TicketListView.as_view(), name="hotline-tickets"),
    path("hotline/tickets/<int:pk>/", TicketDetailView.as_view(), name="hotline-ticket"),
    path("hotline/tickets/<int:pk>/act/", TicketActView.as_view(), name="hotline-ticket-act"),
    path(
        "hotline/tickets/<int:pk>/timeline/",
        TicketTimelineView.as_view(),
        name="hotline-ticket-timeline",
    ),
    path(
        "hotline/tickets/<int:pk>/files/<int:file_id>/content",
        TicketFileContentView.as_view(),
        name="hotline-file-content",
    ),
    path(
        "hotline/tickets/<int:pk>/follow-up/",
        TicketFollowUpView.as_view(),
        name="hotline-ticket-follow-up",
    ),
    path(
        "hotline/tickets/<int:pk>/postponements/",
        TicketPostponementsView.as_view(),
        name="hotline-ticket-postponements",
    ),
    path("hotline/tickets/<int:pk>/links/", TicketLinkView.as_view(), name="hotline-ticket-links"),
    path(
        "hotline/tickets/<int:pk>/comments/",
        TicketCommentView.as_view(),
        name="hotline-ticket-comments",
    ),
    path(
        "hotline/tickets/<int:pk>/suggestions/",
        TicketSuggestionsView.as_view(),
        name="hotline-ticket-suggestions",
    ),
    path("hotline/postponements/", PostponementListView.as_view(), name="hotline-postponements"),
    path(
        "hotline/postponements/<int:pk>/decision/",
        PostponementDecisionView.as_view(),
        name="hotline-postponement-decision",
    ),
    path("hotline/inbox/", InboxView.as_view(), name="hotline-inbox"),
    path("hotline/calls/", CallsView.as_view(), name="hotline-calls"),
    path("hotline/metrics/", MetricsView.as_view(), name="hotline-metrics"),
    path("hotline/stats/", StatsView.as_view(), name="hotline-stats"),
    path("hotline/track/", TrackView.as_view(), name="hotline-track"),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
