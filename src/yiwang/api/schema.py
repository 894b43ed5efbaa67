"""OpenAPI pieces every domain's API shares: the RFC 9457 problem body and its responses."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

PROBLEM = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)

_DESCRIPTIONS = {
    400: _("输入有误,errors 按字段说明如何修改"),
    401: _("未登录"),
    403: _("无权进行此操作"),
    404: _("不存在"),
    405: _("不支持该方法"),
    409: _("与当前状态冲突,或幂等键已用于另一个请求"),
    429: _("请求过于频繁,Retry-After 头给出等待秒数"),
}


def problems(*codes: int) -> dict[int, OpenApiResponse]:
    """Problem responses for `extend_schema(responses=...)`."""
    return {code: OpenApiResponse(PROBLEM, description=str(_DESCRIPTIONS[code])) for code in codes}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=str(_("重复提交时带同一个键:返回第一次的结果,不会重复创建")),
)
