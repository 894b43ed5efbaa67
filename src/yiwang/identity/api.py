"""Accounts and departments API (/api/v1/accounts/..., /api/v1/departments/...).

Views are thin: they shape input and output and call identity.services.
Personal data leaves masked (138****8000, 1101**********002X).
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from yiwang.api.errors import problem_response
from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.common.parsing import parse_id
from yiwang.crypto.fields import mask_id_number, mask_phone
from yiwang.identity import services
from yiwang.identity.models import Department, OneTimeCode, StaffRole, User
from yiwang.identity.permissions import (
    ReadOnlyOrPlatformAdmin,
    can_manage_staff_roles,
    is_platform_admin,
)

# ---------------------------------------------------------------- serializers


class MeSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(help_text=_("脱敏手机号,如 138****8000"))
    id_number = serializers.SerializerMethodField(help_text=_("脱敏身份证号,如 1101**********002X"))
    real_name_verified = serializers.BooleanField(source="is_real_name_verified", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "kind",
            "real_name",
            "phone",
            "id_number",
            "email",
            "company_name",
            "credit_code",
            "real_name_verified",
            "real_name_verified_at",
            "phone_verified_at",
            "date_joined",
        ]
        read_only_fields = fields

    def get_phone(self, user: User) -> str:
        return mask_phone(user.phone)

    def get_id_number(self, user: User) -> str:
        return mask_id_number(user.id_number)


class MeUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    real_name = serializers.CharField(required=False, max_length=60)
    company_name = serializers.CharField(required=False, max_length=200, allow_blank=True)


class RegisterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[User.Kind.CITIZEN, User.Kind.COMPANY],
        default=User.Kind.CITIZEN,
        help_text=_("citizen 个人 / company 法人"),
    )
    phone = serializers.CharField(max_length=20)
    phone_code = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        help_text=_("短信验证码;YIWANG_REQUIRE_PHONE_CODE 开启时必填"),
    )
    password = serializers.CharField(
        max_length=128, write_only=True, style={"input_type": "password"}
    )
    real_name = serializers.CharField(max_length=60)
    id_number = serializers.CharField(max_length=30)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["kind"] == User.Kind.COMPANY:
            missing = {
                f: [_("法人账号请填写此项")]
                for f in ("company_name", "credit_code")
                if not attrs.get(f)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class PhoneCodeSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    purpose = serializers.ChoiceField(
        choices=OneTimeCode.Purpose.choices, default=OneTimeCode.Purpose.REGISTER
    )


class TokenRequestSerializer(serializers.Serializer):
    login = serializers.CharField(max_length=150, help_text=_("手机号或用户名"))
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class RealNameSerializer(serializers.Serializer):
    real_name = serializers.CharField(max_length=60)
    id_number = serializers.CharField(max_length=30)


class DepartmentSerializer(serializers.ModelSerializer):
    children_count = serializers.IntegerField(read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    credit_code_override = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("信用代码未通过校验但确与证照一致时,写明例外原因"),
    )

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "short_name",
            "parent",
            "level",
            "level_display",
            "nature",
            "credit_code",
            "credit_code_override",
            "region_code",
            "address",
            "phone",
            "supervision_phone",
            "office_hours",
            "website",
            "is_active",
            "sort_order",
            "children_count",
        ]
        # Uniqueness and check digits are the service's job (one place, one message).
        extra_kwargs = {"credit_code": {"validators": []}}


class StaffRoleSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    real_name = serializers.CharField(source="user.real_name", read_only=True)
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())

    class Meta:
        model = StaffRole
        fields = ["id", "user", "username", "real_name", "department", "role", "granted_at"]
        read_only_fields = ["id", "department", "granted_at"]


# ---------------------------------------------------------------- accounts


class RegisterView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "otp"

    @extend_schema(
        summary="注册账号(个人或法人)",
        request=RegisterSerializer,
        responses={201: MeSerializer, **problems(400, 409, 429)},
        parameters=[IDEMPOTENCY_KEY],
        auth=[],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        kind = data.pop("kind")
        ip = services.client_ip(request)
        if kind == User.Kind.COMPANY:
            user = services.register_company_agent(ip=ip, **data)
        else:
            data.pop("company_name", None)
            data.pop("credit_code", None)
            user = services.register_citizen(ip=ip, **data)
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class PhoneCodeView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "otp"

    @extend_schema(
        summary="发送短信验证码",
        description="6 位数字,5 分钟内有效;同一手机号 60 秒内只能获取一次。",
        request=PhoneCodeSerializer,
        responses={
            202: inline_serializer(
                "PhoneCodeSent",
                {
                    "expires_in": serializers.IntegerField(),
                    "resend_after": serializers.IntegerField(),
                },
            ),
            **problems(400, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PhoneCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.send_phone_code(
                serializer.validated_data["phone"],
                serializer.validated_data["purpose"],
                ip=services.client_ip(request),
            )
        except services.RateLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.messages[0]) from exc
        return Response(
            {
                "expires_in": int(services.CODE_TTL.total_seconds()),
                "resend_after": services.CODE_RESEND_SECONDS,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        summary="用手机号或用户名登录,取得 API 令牌",
        description=(
            "连续失败 YIWANG_LOGIN_MAX_FAILURES 次后账号锁定 YIWANG_LOGIN_LOCKOUT_MINUTES 分钟,"
            "锁定期间返回 403,detail 写明解锁时间。"
        ),
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            **problems(400, 403, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.authenticate_user(
                request._request,
                serializer.validated_data["login"],
                serializer.validated_data["password"],
            )
        except services.AccountLocked as exc:
            return problem_response(403, exc.messages[0], code="account-locked")
        except services.LoginFailed as exc:
            raise serializers.ValidationError({"password": exc.messages}) from exc
        return Response({"token": services.issue_api_token(user, ip=services.client_ip(request))})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="当前账号", responses={200: MeSerializer, **problems(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        summary="修改当前账号资料",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **problems(400, 401, 403)},
    )
    def patch(self, request: Request) -> Response:
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


class RealNameView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="实名认证",
        request=RealNameSerializer,
        responses={200: MeSerializer, **problems(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = RealNameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.verify_real_name(
            request.user, ip=services.client_ip(request), **serializer.validated_data
        )
        return Response(MeSerializer(user).data)


# ---------------------------------------------------------------- departments


@extend_schema_view(
    list=extend_schema(
        summary="部门列表(公开)",
        parameters=[
            OpenApiParameter("parent", int, description="只列出该部门的直接下级"),
            OpenApiParameter("root", bool, description="true 时只列出顶级部门"),
        ],
        responses={200: DepartmentSerializer(many=True), **problems(400)},
        auth=[],
    ),
    retrieve=extend_schema(
        summary="部门详情(公开)", responses={200: DepartmentSerializer, **problems(404)}, auth=[]
    ),
    create=extend_schema(
        summary="新建部门(平台管理员)",
        responses={201: DepartmentSerializer, **problems(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="修改部门(平台管理员)",
        responses={200: DepartmentSerializer, **problems(400, 401, 403, 404)},
    ),
)
class DepartmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ReadOnlyOrPlatformAdmin]
    serializer_class = DepartmentSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["level", "is_active"]

    def get_queryset(self):
        queryset = Department.objects.annotate(children_count=Count("children")).order_by(
            "sort_order", "id"
        )
        if not is_platform_admin(self.request.user):
            queryset = queryset.filter(is_active=True)
        params = self.request.query_params
        if "parent" in params:
            parent = parse_id(params["parent"])
            if parent is None:
                raise serializers.ValidationError({"parent": [_("parent 应为部门编号(正整数)")]})
            queryset = queryset.filter(parent_id=parent)
        elif params.get("root", "").lower() in {"1", "true"}:
            queryset = queryset.filter(parent__isnull=True)
        return queryset

    def perform_create(self, serializer: DepartmentSerializer) -> None:
        serializer.instance = services.create_department(
            self.request.user, **serializer.validated_data
        )
        serializer.instance.children_count = 0

    def perform_update(self, serializer: DepartmentSerializer) -> None:
        department = services.update_department(
            self.request.user, serializer.instance, **serializer.validated_data
        )
        department.children_count = department.children.count()
        serializer.instance = department


class CanManageStaffRoles(BasePermission):
    """Platform administrators, or the administrators (role admin) of that department."""

    message = _("仅平台管理员或本部门管理员可以管理岗位角色")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        department = get_object_or_404(Department, pk=view.kwargs["department_id"])
        return can_manage_staff_roles(request.user, department)


class StaffRoleListView(APIView):
    permission_classes = [CanManageStaffRoles]

    @extend_schema(
        summary="部门岗位角色列表",
        responses={200: StaffRoleSerializer(many=True), **problems(401, 403, 404)},
    )
    def get(self, request: Request, department_id: int) -> Response:
        roles = StaffRole.objects.filter(department_id=department_id).select_related("user")
        return Response(StaffRoleSerializer(roles.order_by("id"), many=True).data)

    @extend_schema(
        summary="授予岗位角色",
        request=StaffRoleSerializer,
        responses={201: StaffRoleSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, department_id: int) -> Response:
        serializer = StaffRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        department = Department.objects.get(pk=department_id)
        staff_role = services.grant_role(
            request.user,
            serializer.validated_data["user"],
            department,
            serializer.validated_data["role"],
        )
        return Response(StaffRoleSerializer(staff_role).data, status=status.HTTP_201_CREATED)


class StaffRoleDetailView(APIView):
    permission_classes = [CanManageStaffRoles]

    @extend_schema(summary="撤销岗位角色", responses={204: None, **problems(401, 403, 404)})
    def delete(self, request: Request, department_id: int, pk: int) -> Response:
        staff_role = get_object_or_404(StaffRole, pk=pk, department_id=department_id)
        is_self = staff_role.user_id == request.user.pk
        own_admin = is_self and staff_role.role == StaffRole.Role.ADMIN
        if own_admin and not is_platform_admin(request.user):
            raise PermissionDenied(_("不能撤销自己的部门管理员角色,请联系平台管理员"))
        services.revoke_role(request.user, staff_role.user, staff_role.department, staff_role.role)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("accounts/register", RegisterView.as_view(), name="accounts-register"),
    path("accounts/phone-code", PhoneCodeView.as_view(), name="accounts-phone-code"),
    path("accounts/token", TokenView.as_view(), name="accounts-token"),
    path("accounts/me", MeView.as_view(), name="accounts-me"),
    path("accounts/me/real-name", RealNameView.as_view(), name="accounts-real-name"),
    path(
        "departments/<int:department_id>/staff-roles",
        StaffRoleListView.as_view(),
        name="department-staff-roles",
    ),
    path(
        "departments/<int:department_id>/staff-roles/<int:pk>",
        StaffRoleDetailView.as_view(),
        name="department-staff-role-detail",
    ),
]


def register(router: BaseRouter) -> None:
    """Add this domain's viewsets to the v1 router."""
    router.register("departments", DepartmentViewSet, basename="department")
