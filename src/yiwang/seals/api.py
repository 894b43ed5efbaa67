"""Seals API v1: administrators make and manage seals; anyone reads the key directory.

Thin: serializers check shapes, `services` check permissions again, enforce the
rules and write the audit trail, so the API and the console behave the same.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.crypto import signing
from yiwang.identity.models import Department, StaffRole
from yiwang.identity.permissions import IsStaff, department_ids_with_role
from yiwang.seals import selectors, services
from yiwang.seals.models import Seal, SealKey


@contextmanager
def _service_errors() -> Iterator[None]:
    """Keep the service's explanation in the 403 problem body."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


class SealAdminPermission(IsStaff):
    """Staff who administer at least one department, and superusers."""

    message = _("只有部门管理员可以管理电子印章")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return super().has_permission(request, view) and bool(
            user.is_superuser or department_ids_with_role(user, StaffRole.Role.ADMIN)
        )


# ---------------------------------------------------------------- serializers


class SealKeySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = SealKey
        fields = [
            "key_id",
            "suite",
            "store",
            "status",
            "activated_at",
            "retired_at",
            "revoked_at",
            "revoke_reason",
        ]

    def get_status(self, key: SealKey) -> str:
        """active、retired(已轮换停用)或 revoked(已吊销)"""
        return key.status_at(timezone.now())


class SealSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    picture_url = serializers.SerializerMethodField()
    seal_info = serializers.SerializerMethodField()
    keys = SealKeySerializer(many=True, read_only=True)

    class Meta:
        model = Seal
        fields = [
            "id",
            "es_id",
            "department",
            "department_name",
            "name",
            "kind",
            "kind_display",
            "valid_from",
            "valid_until",
            "revoked_at",
            "revoke_reason",
            "picture_url",
            "picture_width_mm",
            "picture_height_mm",
            "seal_info",
            "maker_key_id",
            "maker_signature",
            "created_at",
            "keys",
        ]

    def get_picture_url(self, seal: Seal) -> str:
        return reverse("portal:seal_picture", args=[seal.es_id])

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_seal_info(self, seal: Seal) -> dict[str, Any]:
        """SES_SealInfo(规范化 JSON 解析后的对象),制章者签名覆盖其规范化文本"""
        return json.loads(seal.seal_info)


class SealCreateSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        error_messages={
            "required": _("请选择部门"),
            "does_not_exist": _("部门不存在,请检查部门编号"),
            "incorrect_type": _("部门编号应为数字"),
        },
    )
    name = serializers.CharField(
        max_length=100,
        error_messages={"required": _("请填写印章名称"), "blank": _("请填写印章名称")},
    )
    kind = serializers.ChoiceField(choices=Seal.Kind.choices, default=Seal.Kind.OFFICIAL)
    valid_from = serializers.DateField(
        error_messages={
            "required": _("请填写有效期起始日期"),
            "invalid": _("有效期起应为 YYYY-MM-DD 格式的日期"),
        }
    )
    valid_until = serializers.DateField(
        error_messages={
            "required": _("请填写有效期截止日期"),
            "invalid": _("有效期止应为 YYYY-MM-DD 格式的日期"),
        }
    )
    suite = serializers.ChoiceField(
        choices=[(s, s) for s in signing.SUITES], default=signing.DEFAULT_SUITE
    )
    picture = serializers.FileField(
        required=False, help_text="印模 PNG(multipart 上传);不传则自动绘制红色圆形印章"
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["valid_until"] < attrs["valid_from"]:
            raise serializers.ValidationError(
                {"valid_until": [_("有效期止不能早于有效期起,请检查两个日期")]}
            )
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=services.MAX_TEXT,
        error_messages={"required": _("请填写吊销原因"), "blank": _("请填写吊销原因")},
    )


class KeyRevokeSerializer(ReasonSerializer):
    effective = serializers.DateTimeField(
        required=False, help_text="吊销生效时间,默认现在;发现泄露较晚时可早于现在"
    )


# ---------------------------------------------------------------- seals


class SealListView(APIView):
    permission_classes = [SealAdminPermission]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="本人管理的部门的电子印章(超级管理员:全部)",
        responses={200: SealSerializer(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        seals = selectors.administered_seals(request.user).prefetch_related("keys")
        return Response(
            SealSerializer(seals.order_by("department_id", "-created_at"), many=True).data
        )

    @extend_schema(
        summary="制作电子印章",
        description="在密钥库中生成第一把签名密钥,由制章者签署印章信息;每次制作写一条审计记录。",
        request={
            "application/json": SealCreateSerializer,
            "multipart/form-data": SealCreateSerializer,
        },
        responses={201: SealSerializer, **problems(400, 401, 403, 409)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = SealCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("picture", None)
        with _service_errors():
            seal = services.create_seal(
                request.user,
                data.pop("department"),
                picture_png=upload.read() if upload is not None else None,
                **data,
            )
        return Response(SealSerializer(seal).data, status=status.HTTP_201_CREATED)


class _SealAction(APIView):
    permission_classes = [SealAdminPermission]

    def _seal(self, request: Request, pk: int) -> Seal:
        """Seals of departments the caller does not administer do not exist for them."""
        return get_object_or_404(selectors.administered_seals(request.user), pk=pk)


class SealDetailView(_SealAction):
    @extend_schema(
        summary="电子印章详情", responses={200: SealSerializer, **problems(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SealSerializer(self._seal(request, pk)).data)


class SealRotateView(_SealAction):
    @extend_schema(
        summary="轮换印章密钥",
        description="新密钥自即刻起签名;旧密钥停用(私钥销毁),仍留在印章证书列表和公钥目录中,此前的签名继续有效。",
        request=None,
        responses={200: SealSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        seal = self._seal(request, pk)
        with _service_errors():
            services.rotate_key(request.user, seal)
        return Response(SealSerializer(Seal.objects.get(pk=seal.pk)).data)


class SealRevokeView(_SealAction):
    @extend_schema(
        summary="吊销电子印章",
        description="此后不能再用该印章签章;吊销前的签章仍然有效。",
        request=ReasonSerializer,
        responses={200: SealSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        seal = self._seal(request, pk)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _service_errors():
            seal = services.revoke_seal(request.user, seal, **serializer.validated_data)
        return Response(SealSerializer(seal).data)


class SealKeyRevokeView(APIView):
    permission_classes = [SealAdminPermission]

    @extend_schema(
        summary="吊销印章密钥",
        description="自生效时间起该密钥的签名一律无效(生效时间默认现在,可早于现在)。",
        request=KeyRevokeSerializer,
        responses={200: SealKeySerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, key_id: str) -> Response:
        key = get_object_or_404(
            SealKey.objects.select_related("seal"),
            key_id=key_id,
            seal__in=selectors.administered_seals(request.user),
        )
        serializer = KeyRevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _service_errors():
            key = services.revoke_key(request.user, key, **serializer.validated_data)
        return Response(SealKeySerializer(key).data)


# ---------------------------------------------------------------- key directory (public)


class JwksView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="keys_list",
        summary="公钥目录(JWKS)",
        description=(
            "所有印章曾用过的公钥(含已停用、已吊销,供验证历史签章)。SM2 密钥为 "
            "kty=EC、crv=SM2、alg=SM2-SM3(本平台约定);Ed25519 为 RFC 8037 OKP。"
            "不按部门筛选时还包括制章者公钥(x-role=seal-maker)。"
        ),
        parameters=[
            OpenApiParameter("department", str, description="部门统一社会信用代码,只列该部门的密钥")
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        department = request.query_params.get("department") or None
        return Response(selectors.jwks(department))


class WellKnownJwksView(JwksView):
    """/.well-known/jwks.json: the same directory where JOSE clients look first."""

    schema = None


class JwkView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="keys_retrieve",
        summary="按密钥标识查询公钥(JWK)",
        responses={200: OpenApiTypes.OBJECT, **problems(404)},
    )
    def get(self, request: Request, kid: str) -> Response:
        found = selectors.jwk(kid)
        if found is None:
            raise exceptions.NotFound(_("公钥目录中没有该密钥标识,请核对 kid"))
        return Response(found)


urlpatterns = [
    path("seals/", SealListView.as_view(), name="seal-list"),
    path("seals/<int:pk>/", SealDetailView.as_view(), name="seal-detail"),
    path("seals/<int:pk>/rotate/", SealRotateView.as_view(), name="seal-rotate"),
    path("seals/<int:pk>/revoke/", SealRevokeView.as_view(), name="seal-revoke"),
    path("seal-keys/<str:key_id>/revoke/", SealKeyRevokeView.as_view(), name="seal-key-revoke"),
    path("keys/", JwksView.as_view(), name="jwks"),
    path("keys/<str:kid>/", JwkView.as_view(), name="jwk"),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
