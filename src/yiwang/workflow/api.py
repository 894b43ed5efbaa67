"""Process definitions and listings' online setup, API v1.

Staff read process definitions; only platform administrators upload them or switch
versions on and off. A listing's online setup (process, form, step limits) is read
and written by platform administrators and the listing department's `admin` role.
Views are thin: `workflow.services` and `cases.services.configure_listing` check
and audit, exactly as the console pages do.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.cases import services as cases_services
from yiwang.cases.permissions import is_department_admin
from yiwang.catalog.models import ServiceListing
from yiwang.identity.permissions import is_platform_admin, is_staff_member
from yiwang.workflow import services
from yiwang.workflow.models import ProcessDefinition
from yiwang.workflow.views import with_case_counts


class StaffReadsAdminWrites(BasePermission):
    """Staff may read process definitions; only platform administrators may change them."""

    message = gettext_lazy("仅工作人员可以查看流程,仅平台管理员可以上传或启停流程")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return is_staff_member(request.user)
        return is_platform_admin(request.user)


class ListingAdmin(BasePermission):
    """Platform administrators, or the `admin` role of the listing's department."""

    message = gettext_lazy("只有平台管理员或该事项实施主体的部门管理员可以查看和修改网上办理设置")

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return is_department_admin(request.user, obj.department_id)


# ---------------------------------------------------------------- serializers


class ProcessDefinitionSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.StringRelatedField()
    case_count = serializers.IntegerField(read_only=True, help_text="使用该版本的办件数")
    open_case_count = serializers.IntegerField(read_only=True, help_text="其中尚未办结的办件数")
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProcessDefinition
        fields = [
            "key",
            "version",
            "name",
            "process_id",
            "is_active",
            "uploaded_by",
            "uploaded_at",
            "case_count",
            "open_case_count",
            "url",
        ]

    def get_url(self, obj: ProcessDefinition) -> str:
        return reverse("workflow-process-detail", args=[obj.key, obj.version])


class ProcessStepSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="BPMN 用户任务 id,如 accept")
    title = serializers.CharField()
    lane = serializers.CharField(help_text="泳道名称,如 审查:joint")
    role = serializers.CharField(help_text="intake / review / decision / applicant")
    department = serializers.CharField(help_text="泳道中的部门标记,如 joint;没有时为空")


class ProcessDetailSerializer(ProcessDefinitionSerializer):
    bpmn = serializers.CharField(read_only=True)
    dmn = serializers.CharField(read_only=True)
    steps = serializers.SerializerMethodField()

    class Meta(ProcessDefinitionSerializer.Meta):
        fields = [*ProcessDefinitionSerializer.Meta.fields, "steps", "bpmn", "dmn"]

    @extend_schema_field(ProcessStepSerializer(many=True))
    def get_steps(self, obj: ProcessDefinition) -> list[dict[str, Any]]:
        return ProcessStepSerializer(services.user_steps(obj), many=True).data


class ProcessUploadSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=100, help_text="事项引用的流程编号;已有编号生成新版本")
    name = serializers.CharField(max_length=200)
    bpmn = serializers.FileField(help_text="一个 .bpmn 文件,UTF-8,不超过 1 MB")
    dmn = serializers.FileField(required=False, help_text="可选的 .dmn 决策文件")
    process_id = serializers.SlugField(
        max_length=100, required=False, allow_blank=True, help_text="与 key 不同时填写"
    )

    def _check(self, upload: Any, suffix: str) -> Any:
        if not upload.name.lower().endswith(suffix):
            raise serializers.ValidationError(f"请选择扩展名为 {suffix} 的文件")
        if upload.size > services.MAX_FILE_BYTES:
            raise serializers.ValidationError("文件过大(上限 1 MB),请精简后重新上传")
        return upload

    def validate_bpmn(self, upload: Any) -> Any:
        return self._check(upload, ".bpmn")

    def validate_dmn(self, upload: Any) -> Any:
        return self._check(upload, ".dmn")


class ProcessActivationSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()


class OnlineSetupSerializer(serializers.Serializer):
    listing = serializers.CharField(read_only=True, help_text="实施编码")
    configured = serializers.BooleanField(
        read_only=True, help_text="false:尚无自己的设置,使用一般审批流程和默认申请表"
    )
    process_key = serializers.CharField(max_length=100)
    form_schema = serializers.JSONField(
        help_text="申请表 JSON Schema(见 docs/application-forms.md)"
    )
    step_days = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text='环节时限,如 {"accept": 2}'
    )
    is_active = serializers.BooleanField(required=False, default=True)


def _setup_data(listing: ServiceListing) -> dict[str, Any]:
    setup = cases_services.setup_for(listing)
    return {
        "listing": listing.implementation_code,
        "configured": setup.pk is not None,
        "process_key": setup.process_key,
        "form_schema": setup.form_schema or cases_services.DEFAULT_FORM,
        "step_days": setup.step_days or {},
        "is_active": setup.is_active,
    }


# ---------------------------------------------------------------- views


KEY_PARAM = OpenApiParameter("key", str, description="只列出该流程编号的版本")


class ProcessListView(generics.GenericAPIView):
    permission_classes = [StaffReadsAdminWrites]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ProcessDefinitionSerializer
    queryset = ProcessDefinition.objects.none()  # for the schema

    def get_queryset(self) -> QuerySet[ProcessDefinition]:
        definitions = with_case_counts(
            ProcessDefinition.objects.defer("bpmn", "dmn").select_related("uploaded_by")
        ).order_by("key", "-version")
        key = self.request.query_params.get("key", "").strip()
        return definitions.filter(key=key) if key else definitions

    @extend_schema(
        summary="流程定义列表",
        description="所有流程的各个版本(新版本在前),含使用每个版本的办件数。工作人员可查看。",
        parameters=[KEY_PARAM],
        responses={200: ProcessDefinitionSerializer(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProcessDefinitionSerializer(page, many=True).data)

    @extend_schema(
        summary="上传流程定义",
        description="校验 BPMN/DMN(能否解析、用户任务是否在角色泳道、脚本是否登记、表达式是否安全),"
        "通过后保存为该编号的下一个版本。任何问题都会在 errors.files 中逐条列出(指明元素 id),"
        "且不保存。仅平台管理员。",
        request={"multipart/form-data": ProcessUploadSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ProcessDefinitionSerializer, **problems(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ProcessUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        files = {upload.name: upload.read() for upload in (data["bpmn"], data.get("dmn")) if upload}
        definition = services.upload_definition(
            request.user,
            data["key"],
            data["name"],
            files,
            process_id=data.get("process_id") or None,
        )
        definition = with_case_counts(ProcessDefinition.objects).get(pk=definition.pk)
        response = Response(
            ProcessDefinitionSerializer(definition).data, status=status.HTTP_201_CREATED
        )
        response["Location"] = reverse(
            "workflow-process-detail", args=[definition.key, definition.version]
        )
        return response


class ProcessDetailView(APIView):
    permission_classes = [StaffReadsAdminWrites]
    parser_classes = [JSONParser]

    def definition(self, key: str, version: int) -> ProcessDefinition:
        definitions = with_case_counts(ProcessDefinition.objects.select_related("uploaded_by"))
        return get_object_or_404(definitions, key=key, version=version)

    @extend_schema(
        summary="流程定义详情",
        description="一个版本的 BPMN、DMN 原文和其中的人工办理环节(泳道、角色)。",
        responses={200: ProcessDetailSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, key: str, version: int) -> Response:
        return Response(ProcessDetailSerializer(self.definition(key, version)).data)

    @extend_schema(
        summary="启用或停用流程版本",
        description="停用后新办件改用该编号最新的其他启用版本,已开始的办件不受影响。"
        "事项正在使用的编号不能停用其最后一个启用版本。仅平台管理员。",
        request=ProcessActivationSerializer,
        responses={200: ProcessDefinitionSerializer, **problems(400, 401, 403, 404)},
    )
    def patch(self, request: Request, key: str, version: int) -> Response:
        definition = self.definition(key, version)
        serializer = ProcessActivationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.set_active(request.user, definition, serializer.validated_data["is_active"])
        return Response(ProcessDefinitionSerializer(self.definition(key, version)).data)


class OnlineSetupView(APIView):
    permission_classes = [ListingAdmin]
    parser_classes = [JSONParser]

    def listing(self, implementation_code: str) -> ServiceListing:
        listing = get_object_or_404(
            ServiceListing.objects.select_related("department"),
            implementation_code=implementation_code,
        )
        self.check_object_permissions(self.request, listing)
        return listing

    @extend_schema(
        summary="事项的网上办理设置",
        description="办理流程编号、申请表 JSON Schema、环节时限和是否开放网上申请。"
        "平台管理员或该事项实施主体的部门管理员可查看。",
        responses={200: OnlineSetupSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, implementation_code: str) -> Response:
        return Response(_setup_data(self.listing(implementation_code)))

    @extend_schema(
        summary="设置事项的网上办理",
        description="整体替换网上办理设置。流程须有启用的版本,申请表须符合申请表规范,"
        "环节时限为非负整数且之和不超过法定时限;有任何问题都不保存,errors 按字段说明。",
        request=OnlineSetupSerializer,
        responses={200: OnlineSetupSerializer, **problems(400, 401, 403, 404)},
    )
    def put(self, request: Request, implementation_code: str) -> Response:
        listing = self.listing(implementation_code)
        serializer = OnlineSetupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not isinstance(data["form_schema"], dict):
            raise exceptions.ValidationError({"form_schema": [_("申请表必须是 JSON 对象")]})
        try:
            cases_services.configure_listing(
                request.user,
                listing,
                process_key=data["process_key"],
                form_schema=data["form_schema"],
                step_days=data.get("step_days") or {},
                is_active=data["is_active"],
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        # A fresh listing: the old one may have cached "no setup yet".
        return Response(_setup_data(ServiceListing.objects.get(pk=listing.pk)))


urlpatterns = [
    path("processes/", ProcessListView.as_view(), name="workflow-process-list"),
    path(
        "processes/<slug:key>/<int:version>/",
        ProcessDetailView.as_view(),
        name="workflow-process-detail",
    ),
    path(
        "listings/<str:implementation_code>/online-setup/",
        OnlineSetupView.as_view(),
        name="workflow-listing-online-setup",
    ),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
