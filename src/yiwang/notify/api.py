"""In-app messages API (/api/v1/messages/...): a user's own messages only.

Another user's message is a 404, never a 403, so ids reveal nothing.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from yiwang.api.schema import problems
from yiwang.notify import selectors, services
from yiwang.notify.models import Message

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class MessageSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)
    url = serializers.CharField(read_only=True, help_text=_("站内相对路径,如 /cases/12/;可为空"))

    class Meta:
        model = Message
        fields = ["id", "topic", "title", "body", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="我的消息(最新在前)",
        parameters=[
            OpenApiParameter("unread", bool, description="true 时只列出未读消息"),
        ],
        responses={200: MessageSerializer(many=True), **problems(400, 401)},
    ),
)
class MessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = MessageSerializer
    queryset = Message.objects.none()  # for the schema; get_queryset scopes to the user
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        unread = self.request.query_params.get("unread", "false").strip().lower()
        if unread not in _BOOLEANS:
            raise serializers.ValidationError({"unread": [_("unread 只能是 true 或 false")]})
        return selectors.user_messages(self.request.user, unread_only=_BOOLEANS[unread])

    @extend_schema(
        summary="将一条消息标为已读",
        request=None,
        responses={200: MessageSerializer, **problems(401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request: Request, pk: str | None = None) -> Response:
        message = self.get_object()
        services.mark_read(request.user, [message.pk])
        message.refresh_from_db()
        return Response(MessageSerializer(message).data)

    @extend_schema(
        summary="将全部消息标为已读",
        request=None,
        responses={
            200: inline_serializer(
                "MessagesMarkedRead",
                {"marked": serializers.IntegerField(help_text=_("本次标为已读的条数"))},
            ),
            **problems(401),
        },
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.mark_read(request.user, "all")})


urlpatterns: list = []


def register(router: BaseRouter) -> None:
    """Add this domain's viewsets to the v1 router."""
    router.register("messages", MessageViewSet, basename="message")
