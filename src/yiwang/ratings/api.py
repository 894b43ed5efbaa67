"""好差评 API v1: the applicant rates a case; the department handles 差评整改.

Thin: serializers check shapes, `services` enforce the rules (and permissions
again) and write the audit trail, so the API and the pages behave the same.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from yiwang.api.idempotency import idempotent
from yiwang.api.schema import IDEMPOTENCY_KEY, problems
from yiwang.cases.models import Case
from yiwang.identity.permissions import IsStaff, department_ids_with_role, is_platform_admin
from yiwang.ratings import selectors, services
from yiwang.ratings.models import Rating, Rectification


@contextmanager
def _service_errors() -> Iterator[None]:
    """Keep the service's explanation in the 403 problem body."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


# ---------------------------------------------------------------- serializers


class RaterRectificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Rectification.Status.choices)
    due_date = serializers.DateField()
    reply = serializers.CharField(help_text="部门的答复,办结后才有")


class RatingSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    sequence_display = serializers.CharField(source="get_sequence_display", read_only=True)
    rectification = serializers.SerializerMethodField()

    class Meta:
        model = Rating
        fields = [
            "id",
            "case",
            "level",
            "level_display",
            "channel",
            "channel_display",
            "comment",
            "sequence",
            "sequence_display",
            "created_at",
            "region_code",
            "department",
            "is_void",
            "rectification",
        ]

    @extend_schema_field(RaterRectificationSerializer(allow_null=True))
    def get_rectification(self, rating: Rating) -> dict | None:
        """What the rater may know: status, deadline and the department's reply."""
        rectification = getattr(rating, "rectification", None)
        if rectification is None:
            return None
        return {
            "status": rectification.status,
            "due_date": rectification.due_date,
            "reply": rectification.reply if rectification.closed_at else "",
        }


class RateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=Rating.Level.choices, help_text="1 非常满意 … 5 非常不满意;4、5 为差评"
    )
    channel = serializers.ChoiceField(choices=Rating.Channel.choices)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TEXT, default=""
    )


class RectificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="rating.case_id", read_only=True)
    case_number = serializers.CharField(source="rating.case.number", read_only=True, default=None)
    level = serializers.IntegerField(source="rating.level", read_only=True)
    comment = serializers.CharField(source="rating.comment", read_only=True)
    rated_at = serializers.DateTimeField(source="rating.created_at", read_only=True)

    class Meta:
        model = Rectification
        fields = [
            "id",
            "rating",
            "case",
            "case_number",
            "level",
            "comment",
            "rated_at",
            "department",
            "status",
            "due_date",
            "owner",
            "callback_at",
            "callback_by",
            "callback_notes",
            "fixed_on_spot",
            "measures",
            "reply",
            "closed_at",
            "closed_by",
        ]


class CallbackSerializer(serializers.Serializer):
    notes = serializers.CharField(max_length=services.MAX_TEXT)
    fixed_on_spot = serializers.BooleanField(default=False)


class CloseSerializer(serializers.Serializer):
    measures = serializers.CharField(max_length=services.MAX_TEXT)
    reply = serializers.CharField(max_length=services.MAX_TEXT)


# ---------------------------------------------------------------- ratings of a case


class CaseRatingsView(APIView):
    """The applicant reads and makes ratings; the case's department staff read them."""

    permission_classes = [IsAuthenticated]
    pagination_class = None

    def _case(self, request: Request, case_id: int) -> Case:
        case = get_object_or_404(Case, pk=case_id)
        user = request.user
        if case.applicant_id == user.pk:
            return case
        if request.method == "GET" and (
            is_platform_admin(user) or case.department_id in department_ids_with_role(user)
        ):
            return case
        raise exceptions.NotFound()

    @extend_schema(
        summary="办件的评价",
        responses={200: RatingSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = self._case(request, case_id)
        ratings = Rating.objects.filter(case=case).select_related("rectification")
        return Response(RatingSerializer(ratings.order_by("sequence"), many=True).data)

    @extend_schema(
        summary="评价办件(首次评价或补充评价)",
        description=(
            "仅申请人;办件办结、送达或不予受理/退回后,在评价期限内可评价一次、补充评价一次。"
            "不满意、非常不满意须填写文字评价,并为办理部门生成差评整改。"
        ),
        request=RateSerializer,
        responses={201: RatingSerializer, **problems(400, 401, 403, 404, 409)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: Request, case_id: int) -> Response:
        case = self._case(request, case_id)
        serializer = RateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _service_errors():
            rating = services.rate(request.user, case, **serializer.validated_data)
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- rectifications


class RectificationListView(generics.ListAPIView):
    permission_classes = [IsStaff]
    serializer_class = RectificationSerializer

    def get_queryset(self) -> QuerySet[Rectification]:
        queryset = selectors.visible_rectifications(self.request.user).order_by("due_date", "id")
        wanted = self.request.query_params.get("status", "")
        if wanted == "open":
            return queryset.filter(
                status__in=[Rectification.Status.OPEN, Rectification.Status.CALLED_BACK]
            )
        if wanted:
            if wanted not in Rectification.Status.values:
                choices = "、".join(["open", *Rectification.Status.values])
                raise exceptions.ValidationError({"status": [_("状态不正确,可选:%s") % choices]})
            queryset = queryset.filter(status=wanted)
        return queryset

    @extend_schema(
        summary="本人所在部门的差评整改",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                description="open(未办结)、" + "、".join(Rectification.Status.values),
            )
        ],
        responses={200: RectificationSerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class _RectificationAction(APIView):
    permission_classes = [IsStaff]
    not_handler = gettext_lazy("只有整改部门的管理员或决定岗位人员可以处理差评整改")

    def _rectification(self, request: Request, pk: int) -> Rectification:
        """Other departments' rectifications do not exist for the caller (404)."""
        rectification = get_object_or_404(selectors.visible_rectifications(request.user), pk=pk)
        if not services.can_handle(request.user, rectification.department_id):
            raise exceptions.PermissionDenied(self.not_handler)
        return rectification


class RectificationDetailView(_RectificationAction):
    @extend_schema(
        summary="差评整改详情", responses={200: RectificationSerializer, **problems(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        rectification = get_object_or_404(selectors.visible_rectifications(request.user), pk=pk)
        return Response(RectificationSerializer(rectification).data)


class RectificationCallbackView(_RectificationAction):
    @extend_schema(
        summary="记录回访",
        description="实名差评须 100% 回访;办结前可再次记录。",
        request=CallbackSerializer,
        responses={200: RectificationSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        rectification = self._rectification(request, pk)
        serializer = CallbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _service_errors():
            rectification = services.record_callback(
                request.user, rectification, **serializer.validated_data
            )
        return Response(RectificationSerializer(rectification).data)


class RectificationCloseView(_RectificationAction):
    @extend_schema(
        summary="办结整改并答复评价人",
        description="须先记录回访;答复通过消息发送给评价人。",
        request=CloseSerializer,
        responses={200: RectificationSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        rectification = self._rectification(request, pk)
        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _service_errors():
            rectification = services.close_rectification(
                request.user, rectification, **serializer.validated_data
            )
        return Response(RectificationSerializer(rectification).data)


urlpatterns = [
    path("cases/<int:case_id>/ratings/", CaseRatingsView.as_view(), name="case-ratings"),
    path("rectifications/", RectificationListView.as_view(), name="rectification-list"),
    path(
        "rectifications/<int:pk>/", RectificationDetailView.as_view(), name="rectification-detail"
    ),
    path(
        "rectifications/<int:pk>/callback/",
        RectificationCallbackView.as_view(),
        name="rectification-callback",
    ),
    path(
        "rectifications/<int:pk>/close/",
        RectificationCloseView.as_view(),
        name="rectification-close",
    ),
]


def register(router: BaseRouter) -> None:
    """No viewsets: the routes above are plain views."""
