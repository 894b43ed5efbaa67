"""Cases API v1 (办件): applying online, following a case, and handling it in a department.

Views are thin: they shape input and output and call `cases.services`, which
check the rules again and write the timeline and the audit trail, so the API and
the pages behave the same. A case the caller may not see does not exist for them
(404); a visible case whose step their role may not do is a 403; a request that
the case's current state does not allow (submitting twice, acting on a finished
step) is a 409. Personal data in answers is masked (1101**********002X).
"""

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView, set_rollback

from yiwang.api.errors import problem_response
from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.cases import formschema, selectors, services
from yiwang.cases.models import Case, CaseEvent, CaseFile, Task
from yiwang.cases.permissions import can_act, visible_cases
from yiwang.catalog.models import MaterialRequirement, ServiceListing
from yiwang.common.parsing import parse_id
from yiwang.crypto.fields import mask, mask_id_number, mask_phone
from yiwang.identity.models import Department, User
from yiwang.identity.permissions import IsStaff, department_ids_with_role, is_staff_member
from yiwang.licenses import services as license_services

MATERIAL_PREFIX = "material:"
MAX_FORM_BYTES = 64 * 1024
# Validation errors on these keys say "not in this state": a conflict, not bad input.
STATE_KEYS = frozenset({"status", "task"})
MASKS = {"id_number": mask_id_number, "phone": mask_phone}


# ---------------------------------------------------------------- masking


def _masker(prop: Any):
    if not isinstance(prop, Mapping):
        return None
    if prop.get("x-prefill") in MASKS:
        return MASKS[prop["x-prefill"]]
    return mask if prop.get("x-personal") else None


def masked_form(schema: dict, data: Mapping[str, Any]) -> dict[str, Any]:
    """Form values as they may leave the server: identity numbers and phones masked."""
    props = schema.get("properties", {})
    out = dict(data)
    for name, value in data.items():
        masker = _masker(props.get(name))
        if masker is not None and isinstance(value, str):
            out[name] = masker(value)
    return out


def _drop_echoed_masks(schema: dict, data: Mapping[str, Any], stored: Mapping[str, Any]) -> dict:
    """A client that sends back the masked value it was given keeps the stored value."""
    props = schema.get("properties", {})
    out = dict(data)
    for name, value in data.items():
        masker = _masker(props.get(name))
        current = stored.get(name)
        if masker is not None and isinstance(current, str) and value == masker(current):
            del out[name]
    return out


# ---------------------------------------------------------------- serializers


class FormDataField(serializers.JSONField):
    """A JSON object; in multipart requests, a JSON string holding one."""

    default_error_messages = {
        "not_object": 'form_data 应为 JSON 对象,例如 {{"shop_name": "老王小吃"}}',
        "not_json": "form_data 不是合法的 JSON:{error}",
        "too_large": "form_data 过大(最多 64 KB),请精简后重试",
    }

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                self.fail("not_json", error=exc)
        if not isinstance(data, dict):
            self.fail("not_object")
        if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_FORM_BYTES:
            self.fail("too_large")
        return data


class CaseFileSerializer(serializers.ModelSerializer):
    requirement = serializers.CharField(
        source="requirement.code", allow_null=True, default=None, help_text="材料编码"
    )
    requirement_name = serializers.CharField(
        source="requirement.name", allow_null=True, default=None
    )
    kind = serializers.CharField(
        help_text="material 申请材料 / attachment 办理附件 / result 办理结果"
    )
    content = serializers.SerializerMethodField(help_text="下载地址")

    class Meta:
        model = CaseFile
        fields = [
            "id",
            "kind",
            "requirement",
            "requirement_name",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "content",
        ]

    def get_content(self, case_file: CaseFile) -> str:
        return reverse("cases-file-content", args=[case_file.case_id, case_file.pk])


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs = serializers.ListField(
        child=serializers.CharField(),
        help_text="opinion 须填意见;items 须一次性列出补正事项;decision 须写明法律依据",
    )


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.real_name or user.username}


def _actions(user: Any, task: Task) -> list[dict]:
    if not can_act(user, task):
        return []
    return [
        {"name": a.name, "label": str(a.label), "needs": list(a.needs)}
        for a in services.actions_for(task)
    ]


class TaskSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", allow_null=True)
    listing = serializers.CharField(source="case.listing.implementation_code")
    listing_name = serializers.CharField(source="case.listing.name")
    applicant_name = serializers.CharField(source="case.applicant_name")
    colour = serializers.SerializerMethodField(help_text="red 超期 / yellow 预警 / green 正常")
    assignee = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(help_text="调用者可以执行的办理动作")

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "case_number",
            "listing",
            "listing_name",
            "applicant_name",
            "step",
            "title",
            "role",
            "department",
            "created_at",
            "due_date",
            "warn_date",
            "colour",
            "assignee",
            "completed_at",
            "action",
            "opinion",
            "actions",
        ]

    def get_colour(self, task: Task) -> str:
        return selectors.task_colour(task)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_assignee(self, task: Task) -> dict | None:
        return _person(task.assignee)

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, task: Task) -> list[dict]:
        return _actions(self.context["request"].user, task)


class CaseSummarySerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.implementation_code", help_text="实施编码")
    listing_name = serializers.CharField(source="listing.name")
    department_name = serializers.CharField(source="department.name")
    status_display = serializers.CharField(source="get_status_display")
    result_display = serializers.CharField(source="get_result_display")
    # Plain strings, not enums: "status"/"kind" enum names collide with other domains' schemas.
    applicant_kind = serializers.CharField(help_text="person 自然人 / company 法人")
    status = serializers.CharField(
        help_text="draft 草稿 / submitted 待受理 / correction 待补正 / accepted 办理中 / "
        "decided 已决定 / concluded 已办结 / delivered 已送达 / withdrawn 已撤回"
    )
    result = serializers.CharField(
        help_text="granted 准予 / denied 不予 / refused 不予受理 / returned 预审退回;未决定为空"
    )
    colour = serializers.SerializerMethodField(
        help_text="办件时限灯:red / yellow / green,无时限为空"
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "listing",
            "listing_name",
            "department",
            "department_name",
            "applicant_kind",
            "applicant_name",
            "status",
            "status_display",
            "result",
            "result_display",
            "due_date",
            "colour",
            "created_at",
            "submitted_at",
            "updated_at",
        ]

    def get_colour(self, case: Case) -> str:
        return selectors.case_colour(case)


class NextStepSerializer(serializers.Serializer):
    title = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)


class MissingMaterialSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CaseSerializer(CaseSummarySerializer):
    applicant_id_number = serializers.SerializerMethodField(help_text="脱敏证件号码")
    form_data = serializers.SerializerMethodField(help_text="申请表;证件号码、手机号已脱敏")
    files = serializers.SerializerMethodField()
    missing_materials = serializers.SerializerMethodField(help_text="尚未上传的必备材料")
    days_left = serializers.SerializerMethodField(help_text="距承诺办结日期的工作日,超期为负")
    paused = serializers.BooleanField(source="is_paused", help_text="补正等暂停计时中")
    next_step = serializers.SerializerMethodField()
    open_tasks = serializers.SerializerMethodField(help_text="工作人员可见:当前待办环节")

    class Meta(CaseSummarySerializer.Meta):
        fields = [
            *CaseSummarySerializer.Meta.fields,
            "applicant_id_number",
            "form_data",
            "correction_items",
            "decision_reason",
            "legal_basis",
            "decision_rule",
            "delivery_method",
            "accepted_at",
            "decided_at",
            "concluded_at",
            "delivered_at",
            "withdrawn_at",
            "warn_date",
            "statutory_due_date",
            "paused",
            "pause_kind",
            "paused_working_days",
            "days_left",
            "files",
            "missing_materials",
            "next_step",
            "open_tasks",
        ]

    def _staff(self) -> bool:
        return is_staff_member(self.context["request"].user)

    def get_applicant_id_number(self, case: Case) -> str:
        return mask_id_number(case.applicant_id_number)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_form_data(self, case: Case) -> dict:
        return masked_form(services.schema_of(case.listing), services.form_data(case))

    @extend_schema_field(CaseFileSerializer(many=True))
    def get_files(self, case: Case) -> list[dict]:
        files = case.files.filter(is_current=True).select_related("requirement")
        if not self._staff():
            files = files.exclude(kind=CaseFile.Kind.ATTACHMENT)
        return CaseFileSerializer(files, many=True).data

    @extend_schema_field(MissingMaterialSerializer(many=True))
    def get_missing_materials(self, case: Case) -> list[dict]:
        if case.status not in (Case.Status.DRAFT, Case.Status.CORRECTION):
            return []
        return [{"code": r.code, "name": r.name} for r in services.missing_materials(case)]

    def get_days_left(self, case: Case) -> int | None:
        return selectors.days_left(case) if case.is_open else None

    @extend_schema_field(NextStepSerializer(allow_null=True))
    def get_next_step(self, case: Case) -> dict | None:
        task = selectors.next_step(case)
        if task is None:
            return None
        return NextStepSerializer({"title": task.title, "due_date": task.due_date}).data

    @extend_schema_field(TaskSerializer(many=True))
    def get_open_tasks(self, case: Case) -> list[dict]:
        if not self._staff():
            return []
        tasks = case.tasks.filter(completed_at__isnull=True).select_related(
            "case__listing", "assignee"
        )
        return TaskSerializer(tasks, many=True, context=self.context).data


class EventSerializer(serializers.ModelSerializer):
    """A timeline line; the applicant gets the plain-words text, staff everything."""

    text = serializers.CharField(source="public_text", help_text="面向申请人的说明")
    actor = serializers.SerializerMethodField(help_text="工作人员可见:办理人")
    files = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["id", "at", "kind", "step", "text", "actor", "opinion", "details", "files"]

    def to_representation(self, event: CaseEvent) -> dict:
        data = super().to_representation(event)
        if not self.context["staff"]:
            data.update(actor=None, opinion="", details={})
        return data

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, event: CaseEvent) -> dict | None:
        return _person(event.actor)

    @extend_schema_field(CaseFileSerializer(many=True))
    def get_files(self, event: CaseEvent) -> list[dict]:
        files = event.files.all()
        if not self.context["staff"]:
            files = [f for f in files if f.kind == CaseFile.Kind.RESULT]
        return CaseFileSerializer(files, many=True).data


class RequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = MaterialRequirement
        fields = ["code", "name", "required", "notes"]


class ApplicationFormSerializer(serializers.Serializer):
    listing = serializers.CharField(help_text="实施编码")
    listing_name = serializers.CharField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    schema = serializers.DictField(help_text="申请表 JSON Schema(含 x-order、x-widget 等界面提示)")
    prefill = serializers.DictField(
        help_text="根据调用者已核验的身份信息预填的值(证件号码等已脱敏)"
    )
    locked = serializers.ListField(
        child=serializers.CharField(), help_text="已核验、不能修改的字段:提交时以核验值为准"
    )
    materials = RequirementSerializer(many=True)


class CaseCreateSerializer(serializers.Serializer):
    listing = serializers.CharField(max_length=31, help_text="实施编码")
    form_data = FormDataField(required=False, default=dict, help_text="申请表内容")
    submit = serializers.BooleanField(
        required=False, default=False, help_text="true 时创建后立即提交(全部成功或全部不做)"
    )


class CaseCreateMultipartSerializer(serializers.Serializer):
    """Only for the schema: multipart carries form_data as a JSON string, plus the files."""

    listing = serializers.CharField(max_length=31)
    form_data = serializers.CharField(required=False, help_text="JSON 字符串")
    submit = serializers.BooleanField(required=False, default=False)
    material_code = serializers.FileField(
        required=False,
        help_text="实际字段名为 material:<材料编码>,每项材料一个文件;此处仅作示意",
    )


class FormDataSerializer(serializers.Serializer):
    form_data = FormDataField(help_text="要修改的字段;未给出的字段保持不变")


class ResubmitSerializer(serializers.Serializer):
    form_data = FormDataField(required=False, default=dict, help_text="补正时修改的字段(可省略)")


class MaterialUploadSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=34, help_text="材料编码")
    file = serializers.FileField(help_text="PDF、JPG、PNG 或 OFD,按内容识别类型")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CorrectionItemSerializer(serializers.Serializer):
    material = serializers.CharField(required=False, allow_blank=True, default="", max_length=34)
    field = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    reason = serializers.CharField(max_length=500)


class ActSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=20, help_text="见任务的 actions")
    opinion = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    items = CorrectionItemSerializer(
        many=True, required=False, default=list, help_text="补正时一次性列出全部补正事项"
    )
    legal_basis = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000, help_text="作出决定时必填"
    )

    def to_internal_value(self, data: Any) -> dict:
        # multipart: items arrive as a JSON string
        if hasattr(data, "getlist") and isinstance(data.get("items"), str):
            try:
                items = json.loads(data["items"])
            except ValueError as exc:
                raise serializers.ValidationError(
                    {"items": [f"items 不是合法的 JSON:{exc}"]}
                ) from exc
            data = {k: data.get(k) for k in data if k != "items"} | {"items": items}
        return super().to_internal_value(data)


class TransferSerializer(serializers.Serializer):
    to_user = serializers.IntegerField(min_value=1, help_text="接办人账号编号(同部门同岗位)")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ConcludeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    result = serializers.FileField(required=False, help_text="办理结果文件(决定书、证照)")


class DeliverSerializer(serializers.Serializer):
    method = serializers.CharField(
        max_length=20, help_text="electronic 电子送达 / mail 邮寄 / pickup 窗口领取"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SpecialProcedureSerializer(serializers.Serializer):
    kind = serializers.CharField(
        max_length=20,
        help_text="hearing 听证 / inspection 检验检测检疫 / appraisal 鉴定 / "
        "expert_review 专家评审 / publicity 公示",
    )
    reason = serializers.CharField(max_length=2000, help_text="原因和依据")


class SpecialProcedureEndSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    mine = serializers.IntegerField()
    claimed = serializers.IntegerField()
    red = serializers.IntegerField()
    yellow = serializers.IntegerField()


# ---------------------------------------------------------------- shared view pieces


def _is_state_conflict(exc: DjangoValidationError) -> bool:
    return hasattr(exc, "error_dict") and set(exc.error_dict) <= STATE_KEYS


class CasesView(APIView):
    """Keeps the services' explanations: 403 with their reason, 409 for state conflicts."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError) and _is_state_conflict(exc):
            set_rollback()
            errors = exc.message_dict
            first = next(iter(errors.values()))[0]
            return problem_response(409, _("与办件当前状态冲突"), first, errors, "conflict")
        if isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def case(self, pk: int) -> Case:
        """The caller's view of a case: another applicant's or department's case is a 404."""
        cases = visible_cases(self.request.user).select_related("listing", "department")
        return get_object_or_404(cases, pk=pk)

    def case_data(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        case = Case.objects.select_related("listing", "department").get(pk=case.pk)
        return Response(CaseSerializer(case, context={"request": self.request}).data, status=code)


def _listing(code: str) -> ServiceListing | None:
    return (
        ServiceListing.objects.select_related("department").filter(implementation_code=code).first()
    )


def _requirement(case: Case, code: str, field: str) -> MaterialRequirement:
    requirement = case.listing.materials.filter(code=code).first()
    if requirement is None:
        names = "、".join(f"{r.code}({r.name})" for r in case.listing.materials.all())
        raise serializers.ValidationError(
            {
                field: [
                    _("材料编码 %(code)s 不属于本事项,可选:%(names)s")
                    % {"code": code, "names": names or _("无")}
                ]
            }
        )
    return requirement


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, "")
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
    raw = params.get(name, "")
    if raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise serializers.ValidationError({name: [_("%s 应为编号(正整数)") % name]})
    return value


STATUS_PARAM = OpenApiParameter("status", str, enum=Case.Status.values, description="按状态筛选")
MULTIPART = [MultiPartParser, FormParser]
JSON_OR_MULTIPART = [JSONParser, MultiPartParser, FormParser]


# ---------------------------------------------------------------- applicant side


class ApplicationFormView(CasesView):
    @extend_schema(
        summary="网上申请表",
        description="申请表 JSON Schema、按调用者已核验身份的预填值、锁定字段和材料清单。"
        "该事项不能网上申请时 404。",
        responses={200: ApplicationFormSerializer, **problems(401, 404)},
    )
    def get(self, request: Request, implementation_code: str) -> Response:
        listing = _listing(implementation_code)
        if listing is None or not services.can_apply(listing):
            raise exceptions.NotFound(_("该事项不存在或暂未开通网上申请"))
        schema = services.schema_of(listing)
        return Response(
            {
                "listing": listing.implementation_code,
                "listing_name": listing.name,
                "department": listing.department_id,
                "department_name": listing.department.name,
                "schema": schema,
                "prefill": masked_form(schema, formschema.prefill(schema, request.user)),
                "locked": sorted(formschema.locked_fields(schema, request.user)),
                "materials": RequirementSerializer(listing.materials.all(), many=True).data,
            }
        )


class CaseListView(CasesView, generics.GenericAPIView):
    parser_classes = JSON_OR_MULTIPART
    serializer_class = CaseSummarySerializer
    queryset = Case.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self) -> QuerySet[Case]:
        user, params = self.request.user, self.request.query_params
        if is_staff_member(user):
            cases = visible_cases(user).select_related("listing", "department")
            department = _id_param(params, "department")
            if department is not None:
                cases = cases.filter(department_id=department)
        else:
            cases = selectors.applicant_cases(user)
        wanted = _choice(params, "status", tuple(Case.Status.values))
        if wanted:
            cases = cases.filter(status=wanted)
        return cases.order_by("-created_at", "-id")

    @extend_schema(
        summary="办件列表",
        description="申请人:本人的办件;工作人员:本人有岗位的部门的办件(含并联审批)。",
        parameters=[
            STATUS_PARAM,
            OpenApiParameter("department", int, description="工作人员:按实施部门筛选"),
        ],
        responses={200: CaseSummarySerializer(many=True), **problems(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            CaseSummarySerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="创建申请(可同时上传材料并提交)",
        description=(
            "JSON:{listing, form_data, submit}。multipart:同名字段(form_data 为 JSON 字符串),"
            "材料文件的字段名为 `material:<材料编码>`。草稿、材料和提交在同一个事务中完成:"
            "任何一项失败,什么都不会保存。"
        ),
        request={
            "application/json": CaseCreateSerializer,
            "multipart/form-data": CaseCreateMultipartSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CaseSerializer, **problems(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        listing = _listing(data["listing"])
        if listing is None:
            raise serializers.ValidationError(
                {"listing": [_("实施编码 %s 不存在,请从办事指南进入申请") % data["listing"]]}
            )
        schema = services.schema_of(listing)
        form = _drop_echoed_masks(
            schema, data["form_data"], formschema.prefill(schema, request.user)
        )
        unexpected = [key for key in request.FILES if not key.startswith(MATERIAL_PREFIX)]
        if unexpected:
            raise serializers.ValidationError(
                {key: [_("材料文件的字段名应为 material:<材料编码>")] for key in unexpected}
            )
        uploads = [
            (key, key.removeprefix(MATERIAL_PREFIX), upload)
            for key in request.FILES
            for upload in request.FILES.getlist(key)
        ]
        stored: list[CaseFile] = []
        try:
            with transaction.atomic():
                case = services.create_draft(request.user, listing, form)
                license_services.use_held_licenses(request.user, case)  # 免证办
                for key, code, upload in uploads:
                    requirement = _requirement(case, code, key)
                    try:
                        stored.append(
                            services.add_material(request.user, case, requirement, upload)
                        )
                    except DjangoValidationError as exc:
                        raise serializers.ValidationError({key: exc.messages}) from exc
                if data["submit"]:
                    case = services.submit(request.user, case)
        except BaseException:
            for case_file in stored:  # the rows are rolled back; the bytes must go too
                case_file.file.delete(save=False)
            raise
        return self.case_data(case, status.HTTP_201_CREATED)


class CaseDetailView(CasesView):
    @extend_schema(summary="办件详情", responses={200: CaseSerializer, **problems(401, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return self.case_data(self.case(pk))

    @extend_schema(
        summary="修改申请表(草稿或待补正)",
        request=FormDataSerializer,
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = FormDataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = _drop_echoed_masks(
            services.schema_of(case.listing),
            serializer.validated_data["form_data"],
            services.form_data(case),
        )
        return self.case_data(services.save_draft(request.user, case, form))

    @extend_schema(summary="删除草稿", responses={204: None, **problems(401, 403, 404, 409)})
    def delete(self, request: Request, pk: int) -> Response:
        services.discard_draft(request.user, self.case(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseMaterialsView(CasesView):
    parser_classes = MULTIPART

    @extend_schema(
        summary="上传申请材料",
        description="同一材料再次上传会替换原文件。文件类型按内容识别。",
        request={"multipart/form-data": MaterialUploadSerializer},
        responses={201: CaseFileSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = MaterialUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requirement = _requirement(case, serializer.validated_data["requirement"], "requirement")
        upload: UploadedFile = serializer.validated_data["file"]
        stored = services.add_material(request.user, case, requirement, upload)
        return Response(CaseFileSerializer(stored).data, status=status.HTTP_201_CREATED)


class CaseMaterialView(CasesView):
    @extend_schema(
        summary="删除申请材料", responses={204: None, **problems(400, 401, 403, 404, 409)}
    )
    def delete(self, request: Request, pk: int, file_id: int) -> Response:
        case = self.case(pk)
        case_file = get_object_or_404(case.files, pk=file_id, kind=CaseFile.Kind.MATERIAL)
        services.remove_material(request.user, case_file)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseFileContentView(CasesView):
    @extend_schema(
        summary="下载办件文件",
        description="申请人可下载本人的材料和办理结果;工作人员另可下载办理附件。",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **problems(401, 404),
        },
    )
    def get(self, request: Request, pk: int, file_id: int) -> FileResponse:
        case = self.case(pk)
        files = case.files.all()
        if not is_staff_member(request.user):
            files = files.exclude(kind=CaseFile.Kind.ATTACHMENT)
        case_file = get_object_or_404(files, pk=file_id)
        response = FileResponse(
            case_file.file.open("rb"), as_attachment=True, filename=case_file.filename
        )
        response["Content-Type"] = case_file.content_type
        response["Cache-Control"] = "private, no-store"
        return response


class CaseSubmitView(CasesView):
    @extend_schema(
        summary="提交申请",
        description="检查申请表和必备材料,编号并启动办理流程;秒批事项当场作出决定。",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.case_data(services.submit(request.user, self.case(pk)))


class CaseResubmitView(CasesView):
    @extend_schema(
        summary="提交补正",
        description="先按补正告知上传或替换材料,再提交;可同时修改申请表。",
        request=ResubmitSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = ResubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = _drop_echoed_masks(
            services.schema_of(case.listing),
            serializer.validated_data["form_data"],
            services.form_data(case),
        )
        return self.case_data(services.resubmit(request.user, case, form))


class CaseWithdrawView(CasesView):
    @extend_schema(
        summary="撤回申请",
        request=WithdrawSerializer,
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.case_data(
            services.withdraw(request.user, case, serializer.validated_data["reason"])
        )


class CaseTimelineView(CasesView):
    @extend_schema(
        summary="办理过程",
        description="申请人看到面向申请人的说明;工作人员看到全部记录、办理人和意见。",
        responses={200: EventSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        staff = is_staff_member(request.user)
        events = selectors.timeline(self.case(pk), for_applicant=not staff)
        return Response(EventSerializer(events, many=True, context={"staff": staff}).data)


# ---------------------------------------------------------------- staff side


class StaffView(CasesView):
    permission_classes = [IsStaff]

    def task(self, pk: int) -> Task:
        """A step of a case the caller can see; others' steps are a 404."""
        tasks = Task.objects.filter(case__in=visible_cases(self.request.user).values("pk"))
        return get_object_or_404(tasks.select_related("case", "case__listing", "assignee"), pk=pk)

    def task_data(self, task: Task) -> Response:
        task = Task.objects.select_related("case", "case__listing", "assignee").get(pk=task.pk)
        return Response(TaskSerializer(task, context={"request": self.request}).data)

    def department(self) -> int:
        """?department=, which must be one where the caller holds a role; else their first."""
        ids = department_ids_with_role(self.request.user)
        wanted = _id_param(self.request.query_params, "department")
        if wanted is None:
            first = (
                Department.objects.filter(pk__in=ids)
                .order_by("sort_order", "id")
                .values_list("pk", flat=True)
                .first()
            )
            if first is None:
                raise exceptions.PermissionDenied(_("您尚未在任何部门担任岗位,没有待办事项"))
            return first
        if wanted not in ids:
            raise exceptions.PermissionDenied(_("您在该部门没有岗位,不能查看其待办"))
        return wanted


DEPARTMENT_PARAM = OpenApiParameter(
    "department", int, description="部门编号(须在该部门有岗位);默认第一个"
)


class TaskListView(StaffView, generics.GenericAPIView):
    serializer_class = TaskSerializer
    queryset = Task.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self) -> QuerySet[Task]:
        params = self.request.query_params
        filters = selectors.InboxFilters(
            scope=_choice(params, "scope", selectors.INBOX_SCOPES) or "role",
            step=params.get("step", "")[:64],
            colour=_choice(params, "colour", ("red", "yellow", "green")),
            query=params.get("q", "")[:100],
        )
        return selectors.inbox(self.request.user, self.department(), filters)

    @extend_schema(
        summary="待办(收件箱)",
        description="按时限排序,最紧的在前;actions 为调用者可执行的办理动作。",
        parameters=[
            DEPARTMENT_PARAM,
            OpenApiParameter(
                "scope",
                str,
                enum=list(selectors.INBOX_SCOPES),
                description="mine 我的和未认领 / role 我的岗位(默认) / claimed 我认领的 / "
                "all 全部门(部门管理员)",
            ),
            OpenApiParameter("step", str, description="环节,如 accept、review"),
            OpenApiParameter("colour", str, enum=["red", "yellow", "green"]),
            OpenApiParameter("q", str, description="办件编号前缀或申请人名称前缀"),
        ],
        responses={200: TaskSerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            TaskSerializer(page, many=True, context={"request": request}).data
        )


class TaskCountsView(StaffView):
    @extend_schema(
        summary="待办数量",
        parameters=[DEPARTMENT_PARAM],
        responses={200: CountsSerializer, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.inbox_counts(request.user, self.department()))


class TaskDetailView(StaffView):
    @extend_schema(summary="办理环节", responses={200: TaskSerializer, **problems(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return self.task_data(self.task(pk))


class TaskActView(StaffView):
    parser_classes = JSON_OR_MULTIPART

    @extend_schema(
        summary="办理:预审、受理、补正告知、审查、决定",
        description=(
            "action 取任务 actions 中的一项。补正须在 items 中一次性列出全部事项;"
            "作出决定须写明 legal_basis。"
            "multipart 时 items 为 JSON 字符串,附件字段名为 attachments。"
        ),
        request={"application/json": ActSerializer, "multipart/form-data": ActSerializer},
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        task = self.task(pk)
        serializer = ActSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = services.act(
            request.user,
            task,
            data["action"],
            opinion=data["opinion"],
            items=data["items"],
            legal_basis=data["legal_basis"],
            attachments=request.FILES.getlist("attachments"),
        )
        return self.case_data(case)


class TaskClaimView(StaffView):
    @extend_schema(
        summary="认领",
        request=None,
        responses={200: TaskSerializer, **problems(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.task_data(services.claim(request.user, self.task(pk)))


class TaskUnclaimView(StaffView):
    @extend_schema(
        summary="取消认领",
        request=None,
        responses={200: TaskSerializer, **problems(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.task_data(services.unclaim(request.user, self.task(pk)))


class TaskTransferView(StaffView):
    @extend_schema(
        summary="转办给同岗位同事",
        request=TransferSerializer,
        responses={200: TaskSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        task = self.task(pk)
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_user = User.objects.filter(pk=serializer.validated_data["to_user"]).first()
        if to_user is None:
            raise serializers.ValidationError({"to_user": [_("接办人账号不存在,请核对编号")]})
        task = services.transfer(request.user, task, to_user, serializer.validated_data["note"])
        return self.task_data(task)


class CaseConcludeView(StaffView):
    parser_classes = JSON_OR_MULTIPART

    @extend_schema(
        summary="办结",
        description="已决定的办件办结,可附办理结果文件(multipart 字段 result)。",
        request={"application/json": ConcludeSerializer, "multipart/form-data": ConcludeSerializer},
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = ConcludeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self.case_data(
            services.conclude(request.user, case, data["note"], data.get("result"))
        )


class CaseDeliverView(StaffView):
    @extend_schema(
        summary="登记送达",
        request=DeliverSerializer,
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = DeliverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self.case_data(services.deliver(request.user, case, data["method"], data["note"]))


class CaseSpecialProcedureView(StaffView):
    """特别程序: its time is not counted in the limit (review or decision role)."""

    @extend_schema(
        summary="启动特别程序(暂停计时)",
        request=SpecialProcedureSerializer,
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = SpecialProcedureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self.case_data(
            services.start_special_procedure(request.user, case, data["kind"], data["reason"])
        )

    @extend_schema(
        summary="结束特别程序(恢复计时,期限顺延)",
        request=SpecialProcedureEndSerializer,
        responses={200: CaseSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        serializer = SpecialProcedureEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data["note"]
        return self.case_data(services.end_special_procedure(request.user, case, note))


urlpatterns = [
    path(
        "listings/<str:implementation_code>/application-form/",
        ApplicationFormView.as_view(),
        name="cases-application-form",
    ),
    path("cases/", CaseListView.as_view(), name="cases-list"),
    path("cases/<int:pk>/", CaseDetailView.as_view(), name="cases-detail"),
    path("cases/<int:pk>/materials/", CaseMaterialsView.as_view(), name="cases-materials"),
    path(
        "cases/<int:pk>/materials/<int:file_id>/",
        CaseMaterialView.as_view(),
        name="cases-material",
    ),
    path(
        "cases/<int:pk>/files/<int:file_id>/content",
        CaseFileContentView.as_view(),
        name="cases-file-content",
    ),
    path("cases/<int:pk>/submit/", CaseSubmitView.as_view(), name="cases-submit"),
    path("cases/<int:pk>/resubmit/", CaseResubmitView.as_view(), name="cases-resubmit"),
    path("cases/<int:pk>/withdraw/", CaseWithdrawView.as_view(), name="cases-withdraw"),
    path("cases/<int:pk>/timeline/", CaseTimelineView.as_view(), name="cases-timeline"),
    path("cases/<int:pk>/conclude/", CaseConcludeView.as_view(), name="cases-conclude"),
    path(
        "cases/<int:pk>/special-procedure/",
        CaseSpecialProcedureView.as_view(),
        name="cases-special-procedure",
    ),
    path("cases/<int:pk>/deliver/", CaseDeliverView.as_view(), name="cases-deliver"),
    path("tasks/", TaskListView.as_view(), name="tasks-list"),
    path("tasks/counts/", TaskCountsView.as_view(), name="tasks-counts"),
    path("tasks/<int:pk>/", TaskDetailView.as_view(), name="tasks-detail"),
    path("tasks/<int:pk>/act/", TaskActView.as_view(), name="tasks-act"),
    path("tasks/<int:pk>/claim/", TaskClaimView.as_view(), name="tasks-claim"),
    path("tasks/<int:pk>/unclaim/", TaskUnclaimView.as_view(), name="tasks-unclaim"),
    path("tasks/<int:pk>/transfer/", TaskTransferView.as_view(), name="tasks-transfer"),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
