"""API v1 for licences: types, staff issuing, the wallet, verification, sharing, 免证办.

Thin: serializers check shapes, `services` check permissions again, enforce the
rules and write the audit trail, so the API and the pages behave the same. A
licence the caller may not see does not exist for them (404): staff see their
departments' licences, a holder their own wallet. A request the licence's current
state does not allow (suspending a revoked licence) is a 409. Verification and
用证授权 are public: the payload or the token is the credential, so they run
without session authentication (no CSRF) and are throttled per client.
"""

import json
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, renderers, serializers, status
from rest_framework.authentication import TokenAuthentication
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
from yiwang.api.renderers import JSONRenderer
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.cases.models import Case
from yiwang.cases.permissions import can_view
from yiwang.catalog.models import MaterialRequirement
from yiwang.crypto.fields import mask
from yiwang.identity.models import Department
from yiwang.identity.permissions import IsStaff, ReadOnlyOrPlatformAdmin, is_platform_admin
from yiwang.identity.services import client_ip
from yiwang.licenses import selectors, services
from yiwang.licenses.models import Authorization, License, LicenseType, LicenseUse
from yiwang.seals.services import SealError

MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PAYLOAD_CHARS = 32 * 1024
# Validation errors on these keys say "not in this state": a conflict, not bad input.
STATE_KEYS = frozenset({"status", "authorization"})
# Results where the signature (or sealed file) checked out, so the licence may be named.
SIGNED_RESULTS = frozenset({"valid", "expired", "suspended", "revoked", "superseded"})
JSON_OR_MULTIPART = [JSONParser, MultiPartParser, FormParser]


def _messages(label: str, **extra: str) -> dict[str, str]:
    """Chinese DRF error messages naming the field, so clients can show them as they are."""
    return {
        "required": _("请填写%s") % label,
        "blank": _("请填写%s") % label,
        "null": _("请填写%s") % label,
        "invalid": _("%s格式不正确") % label,
        "max_length": _("%(label)s不能超过 {max_length} 个字符") % {"label": label},
        **extra,
    }


def _text(label: str, max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, error_messages=_messages(label), **kwargs)


class LicenseThrottle(ScopedRateThrottle):
    """Per-client limits on the public endpoints. The rate is
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope] when set (None: unlimited, e.g. for
    the benchmark), else DEFAULT_RATES; read per request so settings overrides apply."""

    DEFAULT_RATES = {"license_verify": "300/min", "license_use": "60/min"}

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            return rates[self.scope]
        return self.DEFAULT_RATES.get(self.scope)


class PDFRenderer(renderers.BaseRenderer):
    """Lets `Accept: application/pdf` reach the PDF views; problems stay JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False, default=str).encode()


# ---------------------------------------------------------------- serializers: types


class LicenseTypeSerializer(serializers.ModelSerializer):
    holder_type = serializers.CharField(
        help_text="持证主体代码类型:111 公民身份号码 / 001 统一社会信用代码"
    )
    holder_type_display = serializers.CharField(source="get_holder_type_display")
    fields = serializers.JSONField(
        help_text='照面信息项,例如 [{"name": "address", "label": "住所", "type": "string"}]'
    )

    class Meta:
        model = LicenseType
        fields = [
            "code",
            "name",
            "defining_authority",
            "defining_authority_code",
            "holder_type",
            "holder_type_display",
            "fields",
            "validity_years",
            "issuing_departments",
            "is_active",
            "sort_order",
        ]


class LicenseTypeWriteSerializer(serializers.Serializer):
    code = _text(_("证照类型代码"), 21, help_text="定义机构统一社会信用代码(18位)+ 3 位顺序码")
    name = _text(_("证照名称"), 100)
    defining_authority = _text(_("定义机构"), 200)
    defining_authority_code = _text(_("定义机构代码"), 18)
    holder_type = serializers.ChoiceField(
        choices=[("111", "111"), ("001", "001")],
        error_messages={"invalid_choice": _("持证主体代码类型应为 111 或 001")},
        help_text="111 公民身份号码 / 001 统一社会信用代码",
    )
    fields = serializers.JSONField(required=False, help_text="照面信息项列表")
    validity_years = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100, help_text="留空表示长期有效"
    )
    issuing_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": _("部门 {pk_value} 不存在,请核对部门编号")},
        help_text="颁发部门编号;为空表示不限",
    )
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=0, max_value=100000)


# ---------------------------------------------------------------- serializers: licences


class LicenseFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    value = serializers.JSONField()


class DisclosableSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()


class LicenseVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    identifier = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    issued_on = serializers.DateField()


class LicenseSummarySerializer(serializers.ModelSerializer):
    type_code = serializers.CharField(source="license_type.code")
    type_name = serializers.CharField(source="license_type.name")
    holder_code = serializers.SerializerMethodField(help_text="持证主体代码;持证人以外脱敏")
    issuer_name = serializers.CharField(source="issuer.name")
    issuer_code = serializers.CharField(source="issuer.credit_code")
    status = serializers.SerializerMethodField(
        help_text="valid 有效 / suspended 暂扣 / expired 已过期 / revoked 已吊销注销 / "
        "superseded 已变更(旧版本);过了有效期止的有效证照报 expired"
    )
    status_display = serializers.SerializerMethodField()

    class Meta:
        model = License
        fields = [
            "id",
            "identifier",
            "number",
            "version",
            "type_code",
            "type_name",
            "holder_name",
            "holder_code",
            "holder_code_type",
            "issuer",
            "issuer_name",
            "issuer_code",
            "issued_on",
            "valid_from",
            "valid_until",
            "status",
            "status_display",
            "status_reason",
        ]

    def get_holder_code(self, lic: License) -> str:
        return lic.holder_code if self.context.get("holder") else mask(lic.holder_code)

    def get_status(self, lic: License) -> str:
        return services.effective_status(lic)

    def get_status_display(self, lic: License) -> str:
        return str(License.Status(services.effective_status(lic)).label)


class LicenseDetailSerializer(LicenseSummarySerializer):
    # method_name: Serializer.get_fields is DRF's own method.
    fields = serializers.SerializerMethodField(method_name="field_values", help_text="照面信息")
    disclosable = serializers.SerializerMethodField(help_text="持证人可选择出示的内容")
    verify_url = serializers.SerializerMethodField(help_text="公开核验页地址")
    versions = serializers.SerializerMethodField(help_text="全部版本,最新在前")

    class Meta(LicenseSummarySerializer.Meta):
        fields = [
            *LicenseSummarySerializer.Meta.fields,
            "status_changed_at",
            "previous",
            "case",
            "key_id",
            "signed_at",
            "verify_url",
            "fields",
            "disclosable",
            "versions",
        ]

    @extend_schema_field(LicenseFieldSerializer(many=True))
    def field_values(self, lic: License) -> list[dict]:
        values = json.loads(lic.fields or "{}")
        return [
            {"name": spec["name"], "label": spec.get("label", spec["name"]), "value": values[name]}
            for spec in lic.license_type.fields
            if (name := spec["name"]) in values
        ]

    @extend_schema_field(DisclosableSerializer(many=True))
    def get_disclosable(self, lic: License) -> list[dict]:
        return [{"name": n, "label": label} for n, label in selectors.disclosable(lic)]

    def get_verify_url(self, lic: License) -> str:
        return services.verify_url(lic, self.context.get("base_url", ""))

    @extend_schema_field(LicenseVersionSerializer(many=True))
    def get_versions(self, lic: License) -> list[dict]:
        return [
            {
                "id": v.pk,
                "identifier": v.identifier,
                "version": v.version,
                "status": services.effective_status(v),
                "issued_on": v.issued_on,
            }
            for v in selectors.versions(lic)
        ]


class IssueSerializer(serializers.Serializer):
    license_type = _text(_("证照类型代码"), 21, help_text="证照类型代码")
    issuer = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        error_messages={
            "required": _("请选择颁发部门"),
            "null": _("请选择颁发部门"),
            "does_not_exist": _("颁发部门 {pk_value} 不存在,请核对部门编号"),
            "incorrect_type": _("颁发部门应为部门编号(数字)"),
        },
        help_text="颁发部门编号",
    )
    holder_name = _text(_("持证主体名称"), 200)
    holder_code = _text(_("持证主体代码"), 18, help_text="公民身份号码或统一社会信用代码")
    fields = serializers.DictField(
        required=False,
        default=dict,
        error_messages={"not_a_dict": _('fields 应为对象,例如 {{"shop_name": "老王小吃"}}')},
        help_text="照面信息项的值,按证照类型的 fields",
    )
    valid_from = serializers.DateField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _("有效期起应为 YYYY-MM-DD 格式的日期")},
        help_text="默认今天",
    )
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _("有效期止应为 YYYY-MM-DD 格式的日期")},
        help_text="默认按证照类型的有效期计算",
    )
    number = _text(
        _("证照编号"),
        60,
        required=False,
        allow_blank=True,
        default="",
        help_text="默认使用流水号",
    )


class LicenseReasonSerializer(serializers.Serializer):
    reason = _text(_("原因和依据"), 500)


class AmendSerializer(serializers.Serializer):
    reason = _text(_("变更事由"), 500)
    fields = serializers.DictField(
        required=False,
        default=dict,
        error_messages={"not_a_dict": _("fields 应为对象,只写要变更的照面项")},
        help_text="要变更的照面项;未给出的保持不变",
    )
    holder_name = _text(_("持证主体名称"), 200, required=False)
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _("有效期止应为 YYYY-MM-DD 格式的日期")},
    )


# ---------------------------------------------------------------- serializers: wallet


class PresentationRequestSerializer(serializers.Serializer):
    disclose = serializers.ListField(
        child=_text(_("披露项"), 40),
        max_length=50,
        required=False,
        default=list,
        error_messages={"not_a_list": _('disclose 应为列表,例如 ["age_over_18"]')},
        help_text="要出示的内容(见 disclosable);为空时只出示证照元数据",
    )


class PresentationSerializer(serializers.Serializer):
    payload = serializers.CharField(help_text="SD-JWT 出示凭证(只含所选披露项)")
    qr_url = serializers.CharField(help_text="二维码内容:核验页地址,携带出示凭证")
    disclosed = serializers.ListField(child=serializers.CharField())


class AuthorizationSerializer(serializers.ModelSerializer):
    uses = serializers.SerializerMethodField(help_text="已使用次数")
    status = serializers.SerializerMethodField(
        help_text="active 有效 / revoked 已撤销 / expired 已到期 / used_up 次数已用完"
    )

    class Meta:
        model = Authorization
        fields = [
            "id",
            "grantee_name",
            "grantee_code",
            "grantee_department",
            "purpose",
            "fields",
            "valid_until",
            "max_uses",
            "uses",
            "status",
            "created_at",
            "revoked_at",
        ]

    def get_uses(self, auth: Authorization) -> int:
        return len(auth.uses.all())

    def get_status(self, auth: Authorization) -> str:
        if auth.revoked_at is not None:
            return "revoked"
        if auth.valid_until < timezone.now():
            return "expired"
        if auth.max_uses is not None and len(auth.uses.all()) >= auth.max_uses:
            return "used_up"
        return "active"


class AuthorizationCreatedSerializer(AuthorizationSerializer):
    token = serializers.CharField(help_text="授权码,只显示这一次,请交给被授权方")

    class Meta(AuthorizationSerializer.Meta):
        fields = [*AuthorizationSerializer.Meta.fields, "token"]


class AuthorizeSerializer(serializers.Serializer):
    grantee_name = _text(_("被授权方名称"), 200, required=False, allow_blank=True, default="")
    grantee_code = _text(
        _("被授权方统一社会信用代码"), 18, required=False, allow_blank=True, default=""
    )
    grantee_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={
            "does_not_exist": _("部门 {pk_value} 不存在,请核对部门编号"),
            "incorrect_type": _("部门应为部门编号(数字)"),
        },
        help_text="被授权的政府部门(可选)",
    )
    purpose = _text(_("用途"), 200, required=False, allow_blank=True, default="")
    fields = serializers.ListField(
        child=_text(_("授权项"), 40),
        max_length=50,
        error_messages={
            "required": _("请至少选择一项授权对方查看的内容"),
            "not_a_list": _('fields 应为列表,例如 ["holder_name", "number"]'),
        },
        help_text="授权对方查看的内容(见 disclosable)",
    )
    days = serializers.IntegerField(
        required=False,
        default=7,
        min_value=1,
        max_value=365,
        error_messages={
            "invalid": _("授权期限应为 1 至 365 天"),
            "min_value": _("授权期限应为 1 至 365 天"),
            "max_value": _("授权期限应为 1 至 365 天"),
        },
    )
    max_uses = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=1000,
        error_messages={
            "invalid": _("使用次数应为 1 至 1000"),
            "min_value": _("使用次数应为 1 至 1000"),
            "max_value": _("使用次数应为 1 至 1000"),
        },
    )


class LicenseUseSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(
        help_text="authorization 授权用证 / reuse 免证办 / staff 工作人员查验"
    )
    channel_display = serializers.CharField(source="get_channel_display")

    class Meta:
        model = LicenseUse
        fields = [
            "id",
            "channel",
            "channel_display",
            "used_by_label",
            "purpose",
            "fields",
            "authorization",
            "case",
            "used_at",
        ]


# ---------------------------------------------------------------- serializers: public


class VerifyRequestSerializer(serializers.Serializer):
    payload = _text(
        _("出示凭证"),
        MAX_PAYLOAD_CHARS,
        required=False,
        help_text="SD-JWT 出示凭证,或扫码得到的核验页地址(含 ?p=)",
    )
    identifier = _text(_("证照标识"), 100, required=False, help_text="证照标识(GB/T 36904)")
    code = _text(_("核验码"), 32, required=False, help_text="核验短码(核验页地址 /v/ 之后的部分)")

    INPUTS = ("payload", "identifier", "code", "pdf")

    def validate(self, attrs: dict) -> dict:
        given = [name for name in self.INPUTS if attrs.get(name)]
        if not given:
            raise serializers.ValidationError(
                {"non_field_errors": [_("请提供 payload、identifier、code 或 pdf 文件中的一项")]}
            )
        if len(given) > 1:
            raise serializers.ValidationError(
                {given[1]: [_("一次只能核验一项:已提供 %s,请去掉其余各项") % given[0]]}
            )
        return attrs


class VerifyUploadSerializer(VerifyRequestSerializer):
    pdf = serializers.FileField(
        required=False,
        error_messages={
            "invalid": _("pdf 应为上传的文件"),
            "empty": _("上传的 pdf 文件是空的"),
            "no_name": _("上传的 pdf 文件没有文件名"),
        },
        help_text="本平台签发的证照 PDF(最大 10 MiB)",
    )

    def validate_pdf(self, upload: Any) -> Any:
        if upload.size > MAX_PDF_BYTES:
            raise serializers.ValidationError(_("pdf 文件不能超过 10 MiB"))
        return upload


class PublicLicenseSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    type_code = serializers.CharField()
    type_name = serializers.CharField()
    issuer_name = serializers.CharField()
    issuer_code = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    version = serializers.IntegerField()
    status = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    result = serializers.CharField(
        help_text="valid / expired / suspended / revoked / superseded / signature_invalid / unknown"
    )
    result_label = serializers.CharField()
    reason = serializers.CharField()
    checked_at = serializers.DateTimeField()
    license = PublicLicenseSerializer(
        allow_null=True, help_text="签名核验通过时才给出;不含任何持证人信息"
    )
    disclosed = LicenseFieldSerializer(many=True, help_text="持证人选择出示的内容")


class UseAuthorizationSerializer(serializers.Serializer):
    token = _text(_("授权码"), 200)
    used_by = _text(_("用证单位名称"), 200)
    purpose = _text(_("用途"), 200, required=False, allow_blank=True, default="")


class UsedLicenseSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    type_code = serializers.CharField()
    type_name = serializers.CharField()
    issuer_name = serializers.CharField()
    issuer_code = serializers.CharField()
    status = serializers.CharField()


class UsedSerializer(serializers.Serializer):
    license = UsedLicenseSerializer()
    fields = serializers.DictField(child=serializers.JSONField(), help_text="授权的内容")
    labels = serializers.DictField(child=serializers.CharField(), help_text="各项的中文名称")


# ---------------------------------------------------------------- serializers: 免证办


class LicenseBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    identifier = serializers.CharField()
    type_code = serializers.CharField()
    type_name = serializers.CharField()
    issuer_name = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)


class ReusedMaterialSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(help_text="材料要求编号")
    requirement_code = serializers.CharField()
    requirement_name = serializers.CharField()
    license = LicenseBriefSerializer()
    status = serializers.CharField(help_text="证照当前状态;不是 valid 时该材料视为未提供")


class ReuseSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(
        min_value=1,
        error_messages={
            "required": _("请选择材料"),
            "invalid": _("requirement 应为材料要求编号(数字)"),
            "min_value": _("requirement 应为材料要求编号(数字)"),
        },
    )
    license = serializers.IntegerField(
        min_value=1,
        error_messages={
            "required": _("请选择证照"),
            "invalid": _("license 应为证照编号(数字)"),
            "min_value": _("license 应为证照编号(数字)"),
        },
    )


# ---------------------------------------------------------------- shared view pieces


def _public_license(lic: License) -> dict[str, Any]:
    return {
        "identifier": lic.identifier,
        "type_code": lic.license_type.code,
        "type_name": lic.license_type.name,
        "issuer_name": lic.issuer.name,
        "issuer_code": lic.issuer.credit_code,
        "valid_from": lic.valid_from,
        "valid_until": lic.valid_until,
        "version": lic.version,
        "status": services.effective_status(lic),
    }


def _verification(result: services.Verification) -> dict[str, Any]:
    """What anyone may learn: the result, and the licence only when its signature holds."""
    lic = result.license if result.result in SIGNED_RESULTS else None
    disclosed = []
    if lic is not None:
        disclosed = [
            {"name": name, "label": label, "value": value}
            for name, label, value in selectors.shown_claims(
                lic.license_type, result.claims, result.disclosed
            )
        ]
    return {
        "result": result.result,
        "result_label": _(services.RESULTS[result.result]),
        "reason": result.reason,
        "checked_at": result.checked_at,
        "license": _public_license(lic) if lic is not None else None,
        "disclosed": disclosed,
    }


def _reused(requirement: MaterialRequirement, lic: License, state: str) -> dict[str, Any]:
    return {
        "requirement": requirement.pk,
        "requirement_code": requirement.code,
        "requirement_name": requirement.name,
        "license": {
            "id": lic.pk,
            "identifier": lic.identifier,
            "type_code": lic.license_type.code,
            "type_name": lic.license_type.name,
            "issuer_name": lic.issuer.name,
            "valid_until": lic.valid_until,
        },
        "status": state,
    }


def _request_data(request: Request) -> Any:
    """request.data, with an over-large or over-long form a 400 instead of a 500."""
    try:
        return request.data
    except SuspiciousOperation:
        raise exceptions.ValidationError(
            {"non_field_errors": [_("请求内容过大或字段过多,请只提交需要核验的一项")]}
        ) from None


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/")


PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}


class LicensesView(APIView):
    """Keeps the services' explanations: 403 with their reason, 409 for state conflicts."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if (
            isinstance(exc, DjangoValidationError)
            and hasattr(exc, "error_dict")
            and set(exc.error_dict) <= STATE_KEYS
        ):
            set_rollback()
            errors = exc.message_dict
            first = next(iter(errors.values()))[0]
            return problem_response(409, _("与证照当前状态冲突"), first, errors, "conflict")
        return super().handle_exception(exc)

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"request": self.request, "base_url": _base_url(self.request), **extra}


# ---------------------------------------------------------------- licence types


class LicenseTypeListView(LicensesView, generics.GenericAPIView):
    permission_classes = [ReadOnlyOrPlatformAdmin]
    serializer_class = LicenseTypeSerializer
    queryset = LicenseType.objects.none()  # for the schema; get_queryset decides

    def get_queryset(self) -> QuerySet[LicenseType]:
        types = LicenseType.objects.prefetch_related("issuing_departments")
        if not is_platform_admin(self.request.user):
            types = types.filter(is_active=True)
        return types.order_by("sort_order", "code")

    @extend_schema(
        summary="证照目录",
        description="公开:启用的证照类型;平台管理员另可看到已停用的。",
        responses={200: LicenseTypeSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LicenseTypeSerializer(page, many=True).data)

    @extend_schema(
        summary="新增证照类型(平台管理员)",
        request=LicenseTypeWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: LicenseTypeSerializer, **problems(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = LicenseTypeWriteSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        kind = services.save_license_type(request.user, dict(serializer.validated_data))
        return Response(LicenseTypeSerializer(kind).data, status=status.HTTP_201_CREATED)


class LicenseTypeDetailView(LicensesView):
    permission_classes = [ReadOnlyOrPlatformAdmin]

    def license_type(self, code: str) -> LicenseType:
        types = LicenseType.objects.all()
        if not is_platform_admin(self.request.user):
            types = types.filter(is_active=True)
        return get_object_or_404(types, code=code.strip().upper())

    @extend_schema(
        summary="证照类型(按证照类型代码)",
        responses={200: LicenseTypeSerializer, **problems(404)},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(LicenseTypeSerializer(self.license_type(code)).data)

    @extend_schema(
        summary="修改证照类型(平台管理员)",
        description="只改给出的字段;已签发过证照的类型不能修改代码。",
        request=LicenseTypeWriteSerializer,
        responses={200: LicenseTypeSerializer, **problems(400, 401, 403, 404)},
    )
    def patch(self, request: Request, code: str) -> Response:
        kind = self.license_type(code)
        serializer = LicenseTypeWriteSerializer(data=_request_data(request), partial=True)
        serializer.is_valid(raise_exception=True)
        kind = services.save_license_type(request.user, dict(serializer.validated_data), kind)
        return Response(LicenseTypeSerializer(kind).data)


# ---------------------------------------------------------------- staff


STATUS_PARAM = OpenApiParameter(
    "status", str, enum=License.Status.values, description="按登记状态筛选"
)


class StaffLicenseView(LicensesView):
    permission_classes = [IsStaff]

    def license(self, pk: int) -> License:
        """Licences of departments where the caller has no role do not exist for them."""
        return get_object_or_404(selectors.staff_licenses(self.request.user), pk=pk)

    def detail(self, lic: License, code: int = status.HTTP_200_OK) -> Response:
        lic = License.objects.select_related("license_type", "issuer").get(pk=lic.pk)
        return Response(LicenseDetailSerializer(lic, context=self.context()).data, status=code)


class LicenseListView(StaffLicenseView, generics.GenericAPIView):
    permission_classes = [IsStaff]
    parser_classes = [JSONParser]
    serializer_class = LicenseSummarySerializer
    queryset = License.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self) -> QuerySet[License]:
        params = self.request.query_params
        wanted = params.get("status", "")
        if wanted and wanted not in License.Status.values:
            raise serializers.ValidationError(
                {"status": [_("status 应为以下之一:%s") % "、".join(License.Status.values)]}
            )
        return selectors.staff_licenses(self.request.user, params.get("q", "")[:100], wanted)

    @extend_schema(
        summary="本部门签发的证照",
        description="工作人员:本人有岗位的部门签发的证照(平台管理员:全部);持证主体代码脱敏。",
        parameters=[
            STATUS_PARAM,
            OpenApiParameter("q", str, description="证照标识、证照编号、持证主体名称前缀或代码"),
        ],
        responses={200: LicenseSummarySerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            LicenseSummarySerializer(page, many=True, context=self.context()).data
        )

    @extend_schema(
        summary="签发证照",
        description="颁发部门的受理、决定岗位或管理员;用部门公章签名。",
        request=IssueSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: LicenseDetailSerializer, **problems(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = IssueSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        code = data.pop("license_type").strip().upper()
        kind = LicenseType.objects.filter(code=code).first()
        if kind is None:
            raise serializers.ValidationError(
                {"license_type": [_("证照类型代码 %s 不存在,请从证照目录中选择") % code]}
            )
        try:
            lic = services.issue(request.user, kind, **data)
        except SealError as exc:
            raise serializers.ValidationError({"issuer": exc.messages}) from None
        return self.detail(lic, status.HTTP_201_CREATED)


class LicenseDetailView(StaffLicenseView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="证照详情(工作人员)",
        responses={200: LicenseDetailSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.detail(self.license(pk))


class _StatusChangeView(StaffLicenseView):
    permission_classes = [IsStaff]
    action = ""

    def change(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        serializer = LicenseReasonSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.detail(services.change_status(request.user, lic, self.action, reason))


STATUS_RESPONSES = {200: LicenseDetailSerializer, **problems(400, 401, 403, 404, 409)}


class LicenseSuspendView(_StatusChangeView):
    permission_classes = [IsStaff]
    action = "suspend"

    @extend_schema(
        summary="暂扣证照",
        description="颁发部门的决定岗位或管理员;须写明原因和依据。",
        request=LicenseReasonSerializer,
        responses=STATUS_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.change(request, pk)


class LicenseResumeView(_StatusChangeView):
    permission_classes = [IsStaff]
    action = "resume"

    @extend_schema(
        summary="恢复暂扣的证照",
        request=LicenseReasonSerializer,
        responses=STATUS_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.change(request, pk)


class LicenseRevokeView(_StatusChangeView):
    permission_classes = [IsStaff]
    action = "revoke"

    @extend_schema(
        summary="吊销/注销证照",
        description="不可恢复;此后任何核验都显示已吊销/注销及原因。",
        request=LicenseReasonSerializer,
        responses=STATUS_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.change(request, pk)


class LicenseAmendView(StaffLicenseView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="变更/加注证照(生成新版本)",
        description="生成版本号加一的新证照并重新签名,原版本变为“已变更”。",
        request=AmendSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: LicenseDetailSerializer, **problems(400, 401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        serializer = AmendSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        try:
            new = services.amend(request.user, lic, **serializer.validated_data)
        except SealError as exc:
            raise serializers.ValidationError({"issuer": exc.messages}) from None
        return self.detail(new, status.HTTP_201_CREATED)


class LicensePdfView(StaffLicenseView):
    permission_classes = [IsStaff]
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="证照 PDF(工作人员)",
        description="盖有部门电子印章的 PDF 版式文件。",
        responses={**PDF_RESPONSE, **problems(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        lic = self.license(pk)
        file = services.pdf_for(lic, _base_url(request))
        return _pdf_response(bytes(file.content), lic.identifier)


# ---------------------------------------------------------------- wallet (我的证照)


class WalletView(LicensesView):
    permission_classes = [IsAuthenticated]

    def license(self, pk: int) -> License:
        """Someone else's licence does not exist for the caller."""
        return get_object_or_404(selectors.wallet(self.request.user), pk=pk)

    def context(self, **extra: Any) -> dict[str, Any]:
        return super().context(holder=True, **extra)


class WalletListView(WalletView, generics.GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LicenseSummarySerializer
    queryset = License.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self) -> QuerySet[License]:
        return selectors.wallet(self.request.user)

    @extend_schema(
        summary="我的证照",
        description="本人(已实名)或本企业持有的证照,每份证照只列最新版本。",
        responses={200: LicenseSummarySerializer(many=True), **problems(401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            LicenseSummarySerializer(page, many=True, context=self.context()).data
        )


class WalletDetailView(WalletView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="我的证照详情",
        responses={200: LicenseDetailSerializer, **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        return Response(LicenseDetailSerializer(lic, context=self.context()).data)


class WalletPresentationView(WalletView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="出示证照(生成核验二维码内容)",
        description="只包含所选的内容,例如只出示 age_over_18 时核验方看不到姓名和证件号码。",
        request=PresentationRequestSerializer,
        responses={200: PresentationSerializer, **problems(400, 401, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        serializer = PresentationRequestSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        names = list(dict.fromkeys(serializer.validated_data["disclose"]))
        return Response(
            {
                "payload": services.present(lic, names),
                "qr_url": services.qr_text(lic, names, _base_url(request)),
                "disclosed": names,
            }
        )


class WalletPdfView(WalletView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="下载证照 PDF",
        responses={**PDF_RESPONSE, **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        lic = self.license(pk)
        file = services.pdf_for(lic, _base_url(request))
        return _pdf_response(bytes(file.content), lic.identifier)


class WalletAuthorizationsView(WalletView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="用证授权列表",
        responses={200: AuthorizationSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        return Response(AuthorizationSerializer(selectors.authorizations(lic), many=True).data)

    @extend_schema(
        summary="授权他人使用证照",
        description="授权码只在本次返回中出现一次,平台只保存其摘要;每次使用都有记录。",
        request=AuthorizeSerializer,
        responses={201: AuthorizationCreatedSerializer, **problems(400, 401, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        serializer = AuthorizeSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        auth, token = services.authorize(request.user, lic, **serializer.validated_data)
        data = AuthorizationSerializer(auth).data
        return Response({**data, "token": token}, status=status.HTTP_201_CREATED)


class WalletAuthorizationRevokeView(WalletView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="撤销用证授权",
        request=None,
        responses={200: AuthorizationSerializer, **problems(401, 404, 409)},
    )
    def post(self, request: Request, pk: int, auth_id: int) -> Response:
        lic = self.license(pk)
        auth = get_object_or_404(lic.authorizations, pk=auth_id)
        auth = services.revoke_authorization(request.user, auth)
        return Response(AuthorizationSerializer(auth).data)


class WalletUsesView(WalletView, generics.GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LicenseUseSerializer
    queryset = LicenseUse.objects.none()  # for the schema

    @extend_schema(
        summary="用证记录",
        description="谁在什么时候、为什么用途读取了这份证照的哪些内容。",
        responses={200: LicenseUseSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        lic = self.license(pk)
        page = self.paginate_queryset(lic.uses.order_by("-used_at", "-id"))
        return self.get_paginated_response(LicenseUseSerializer(page, many=True).data)


# ---------------------------------------------------------------- public


class VerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # the payload is the credential; no session, no CSRF
    throttle_classes = [LicenseThrottle]
    throttle_scope = "license_verify"
    parser_classes = JSON_OR_MULTIPART

    @extend_schema(
        operation_id="licenses_verify",
        summary="核验证照(公开)",
        description=(
            "四种输入任选其一:出示凭证或二维码地址 `payload`、证照标识 `identifier`、"
            "核验短码 `code`,或 multipart 上传 `pdf` 文件。答复核验结果和原因;"
            "`disclosed` 只含持证人在出示凭证中选择出示的内容,按证照标识、短码或 PDF "
            "核验时不返回任何持证人信息。证照标识校验位错误时 400。"
        ),
        request={
            "application/json": VerifyRequestSerializer,
            "multipart/form-data": VerifyUploadSerializer,
        },
        responses={200: VerificationSerializer, **problems(400, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = VerifyUploadSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ip = client_ip(request)
        if data.get("payload"):
            result = services.verify_presentation(data["payload"], ip=ip, channel="api")
        elif data.get("identifier"):
            result = services.verify_identifier(data["identifier"], ip=ip, channel="api")
        elif data.get("code"):
            result = services.verify_short_code(data["code"], ip=ip, channel="api")
        else:
            result = services.verify_pdf(data["pdf"].read(), ip=ip, channel="api")
        return Response(VerificationSerializer(_verification(result)).data)


class UseAuthorizationView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = [TokenAuthentication]  # the token is the credential; no CSRF
    throttle_classes = [LicenseThrottle]
    throttle_scope = "license_use"

    @extend_schema(
        operation_id="license_authorizations_use",
        summary="凭授权码使用证照",
        description="被授权方凭持证人给出的授权码读取授权的内容;每次使用都记入用证记录。"
        "授权码无效、已撤销、已到期或次数用完时 403,并说明原因。",
        request=UseAuthorizationSerializer,
        responses={200: UsedSerializer, **problems(400, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = UseAuthorizationSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            auth, shown = services.use_authorization(
                data["token"],
                used_by_label=data["used_by"],
                purpose=data["purpose"],
                actor=request.user if request.user.is_authenticated else None,
                ip=client_ip(request),
            )
        except services.LicenseError as exc:
            errors = exc.message_dict
            if "token" not in errors:
                raise
            return problem_response(
                403, _("授权不可用"), errors["token"][0], errors, "authorization-refused"
            )
        lic = auth.license
        labels = selectors.field_labels(lic.license_type)
        return Response(
            {
                "license": {
                    "identifier": lic.identifier,
                    "type_code": lic.license_type.code,
                    "type_name": lic.license_type.name,
                    "issuer_name": lic.issuer.name,
                    "issuer_code": lic.issuer.credit_code,
                    "status": services.effective_status(lic),
                },
                "fields": shown,
                "labels": {name: labels.get(name, name) for name in shown},
            }
        )


# ---------------------------------------------------------------- 免证办


class CaseLicensesView(LicensesView):
    permission_classes = [IsAuthenticated]

    def case(self, case_id: int) -> Case:
        """The applicant or staff who may see the case; for anyone else it does not exist."""
        case = get_object_or_404(Case.objects.select_related("listing"), pk=case_id)
        if not can_view(self.request.user, case):
            raise exceptions.NotFound()
        return case


class ReusedMaterialsView(CaseLicensesView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="免证办:由电子证照提供的材料",
        description="申请人或能查看该办件的工作人员;status 为证照当前状态。",
        responses={200: ReusedMaterialSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, case_id: int) -> Response:
        rows = selectors.reused_for_case(self.case(case_id))
        return Response([_reused(r["requirement"], r["license"], r["status"]) for r in rows])

    @extend_schema(
        summary="免证办:用持有的电子证照代替材料",
        description="仅申请人,草稿或待补正时;证照须属于申请人、类型与材料要求一致且有效。"
        "被拒绝的尝试会记入审计。",
        request=ReuseSerializer,
        responses={201: ReusedMaterialSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = self.case(case_id)
        serializer = ReuseSerializer(data=_request_data(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requirement = MaterialRequirement.objects.filter(pk=data["requirement"]).first()
        if requirement is None:
            raise serializers.ValidationError(
                {"requirement": [_("材料要求 %s 不存在,请核对编号") % data["requirement"]]}
            )
        lic = License.objects.filter(pk=data["license"]).first()
        if lic is None:
            raise serializers.ValidationError(
                {"license": [_("证照 %s 不存在,请从“我的证照”中选择") % data["license"]]}
            )
        reused = services.use_for_material(request.user, case, requirement, lic)
        lic = License.objects.select_related("license_type", "issuer").get(pk=reused.license_id)
        return Response(
            _reused(requirement, lic, services.effective_status(lic)),
            status=status.HTTP_201_CREATED,
        )


class ReusedMaterialView(CaseLicensesView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="免证办:不再使用电子证照(改为上传材料)",
        responses={204: None, **problems(401, 403, 404, 409)},
    )
    def delete(self, request: Request, case_id: int, requirement_id: int) -> Response:
        case = self.case(case_id)
        requirement = get_object_or_404(case.listing.materials, pk=requirement_id)
        try:
            services.stop_using(request.user, case, requirement)
        except services.LicenseError as exc:
            if set(exc.message_dict) == {"requirement"}:
                raise exceptions.NotFound(exc.message_dict["requirement"][0]) from None
            raise
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("license-types/", LicenseTypeListView.as_view(), name="license-type-list"),
    path("license-types/<str:code>/", LicenseTypeDetailView.as_view(), name="license-type-detail"),
    path("licenses/", LicenseListView.as_view(), name="license-list"),
    path("licenses/verify", VerifyView.as_view(), name="license-verify"),
    path("licenses/<int:pk>/", LicenseDetailView.as_view(), name="license-detail"),
    path("licenses/<int:pk>/suspend/", LicenseSuspendView.as_view(), name="license-suspend"),
    path("licenses/<int:pk>/resume/", LicenseResumeView.as_view(), name="license-resume"),
    path("licenses/<int:pk>/revoke/", LicenseRevokeView.as_view(), name="license-revoke"),
    path("licenses/<int:pk>/amend/", LicenseAmendView.as_view(), name="license-amend"),
    path("licenses/<int:pk>/pdf", LicensePdfView.as_view(), name="license-pdf"),
    path("wallet/", WalletListView.as_view(), name="wallet-list"),
    path("wallet/<int:pk>/", WalletDetailView.as_view(), name="wallet-detail"),
    path(
        "wallet/<int:pk>/presentations/",
        WalletPresentationView.as_view(),
        name="wallet-presentations",
    ),
    path("wallet/<int:pk>/pdf", WalletPdfView.as_view(), name="wallet-pdf"),
    path(
        "wallet/<int:pk>/authorizations/",
        WalletAuthorizationsView.as_view(),
        name="wallet-authorizations",
    ),
    path(
        "wallet/<int:pk>/authorizations/<int:auth_id>/revoke/",
        WalletAuthorizationRevokeView.as_view(),
        name="wallet-authorization-revoke",
    ),
    path("wallet/<int:pk>/uses/", WalletUsesView.as_view(), name="wallet-uses"),
    path(
        "license-authorizations/use",
        UseAuthorizationView.as_view(),
        name="license-authorization-use",
    ),
    path(
        "cases/<int:case_id>/reused-materials/",
        ReusedMaterialsView.as_view(),
        name="case-reused-materials",
    ),
    path(
        "cases/<int:case_id>/reused-materials/<int:requirement_id>/",
        ReusedMaterialView.as_view(),
        name="case-reused-material",
    ),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
