"""Catalog API v1: public reading of the catalog; writes by platform or department admins.

Viewsets are thin: serializers check shapes, `services` enforce the rules and
write the audit trail, so the API and the console behave the same.
"""

import json

import django_filters
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from yiwang.api.schema import PROBLEM as SHARED_PROBLEM
from yiwang.catalog import exchange, selectors, services
from yiwang.catalog.codes import ItemType, ListingStatus, ServiceObject
from yiwang.catalog.models import (
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
)
from yiwang.catalog.permissions import can_edit_department, editable_department_ids
from yiwang.common.parsing import parse_id
from yiwang.identity.models import Department
from yiwang.identity.permissions import (
    IsPlatformAdmin,
    IsStaff,
    ReadOnlyOrPlatformAdmin,
    is_staff_member,
)

PROBLEM = OpenApiResponse(SHARED_PROBLEM, description="application/problem+json (RFC 9457)")
WRITE_ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM}


class CatalogEditor(BasePermission):
    """Anyone reads; writes need a platform admin or the department's own admin."""

    message = gettext_lazy("只有平台管理员或该实施主体的部门管理员可以修改")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        allowed = editable_department_ids(request.user)
        return bool(getattr(request.user, "is_authenticated", False)) and allowed != set()

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or can_edit_department(
            request.user, obj.department_id
        )


# ---------------------------------------------------------------- serializers


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["code", "name", "audience", "is_life_event", "description", "sort_order"]


class ServiceItemSerializer(serializers.ModelSerializer):
    themes = serializers.SlugRelatedField(
        slug_field="code", queryset=Theme.objects.all(), many=True, required=False
    )
    item_type_display = serializers.CharField(source="get_item_type_display", read_only=True)
    levels = serializers.ListField(child=serializers.IntegerField())
    service_objects = serializers.ListField(child=serializers.CharField(), required=False)
    keywords = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = ServiceItem
        fields = [
            "id",
            "basic_code",
            "name",
            "item_type",
            "item_type_display",
            "levels",
            "legal_basis",
            "service_objects",
            "keywords",
            "themes",
            "updated_at",
        ]
        extra_kwargs = {"basic_code": {"validators": []}}


class MaterialSerializer(serializers.ModelSerializer):
    class Meta:
        model = MaterialRequirement
        fields = [
            "id",
            "listing",
            "code",
            "name",
            "issuer",
            "originals",
            "copies",
            "required",
            "notes",
            "sample",
            "license_type_code",
            "sort_order",
        ]


class MaterialInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    issuer = serializers.CharField(allow_blank=True, required=False)
    originals = serializers.IntegerField(required=False)
    copies = serializers.IntegerField(required=False)
    required = serializers.BooleanField(required=False)
    notes = serializers.CharField(allow_blank=True, required=False)
    sample = serializers.CharField(allow_blank=True, required=False)
    license_type_code = serializers.CharField(allow_blank=True, required=False, max_length=21)


class FaqSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()


class DepartmentBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "credit_code"]


class ItemBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceItem
        fields = ["id", "basic_code", "name", "item_type", "legal_basis", "keywords"]


GUIDE_FIELDS = [f for f in services.LISTING_FIELDS if f not in {"level", "implementation_code"}]


class ServiceListingSerializer(serializers.ModelSerializer):
    """The complete 办事指南 of one listing."""

    item = ItemBriefSerializer(read_only=True)
    display_name = serializers.CharField(read_only=True)
    department = DepartmentBriefSerializer(read_only=True)
    co_departments = DepartmentBriefSerializer(many=True, read_only=True)
    materials = MaterialSerializer(many=True, read_only=True)
    process_steps = serializers.ListField(child=serializers.CharField())
    service_objects = serializers.ListField(child=serializers.CharField())
    handling_forms = serializers.ListField(child=serializers.CharField())
    faq = FaqSerializer(many=True)

    class Meta:
        model = ServiceListing
        fields = [
            "id",
            "implementation_code",
            "display_name",
            "item",
            "department",
            "level",
            *GUIDE_FIELDS,
            "co_departments",
            "materials",
            "updated_at",
        ]


class ItemSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceItem
        fields = ["id", "basic_code", "name", "item_type"]


class ListingSummarySerializer(serializers.ModelSerializer):
    """A search result: enough to choose a service; the guide is one request away.

    Documents the search API's cards. The view returns the cards the index stores
    (`catalog.indexing.listing_summary`); a test keeps the two identical.
    """

    display_name = serializers.CharField(read_only=True)
    item = ItemSummarySerializer(read_only=True)
    department = DepartmentBriefSerializer(read_only=True)
    guide_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ServiceListing
        fields = [
            "id",
            "implementation_code",
            "display_name",
            "item",
            "department",
            "level",
            "case_kind",
            "statutory_days",
            "committed_days",
            "online",
            "visits_required",
            "guide_url",
        ]


class ListingWriteSerializer(serializers.ModelSerializer):
    """Shapes only; the rules (limits, codes, permissions) are checked by the services."""

    item = serializers.PrimaryKeyRelatedField(queryset=ServiceItem.objects.all())
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    co_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, required=False
    )
    materials = MaterialInputSerializer(many=True, required=False)
    implementation_code = serializers.CharField(max_length=31, required=False)
    statutory_days = serializers.IntegerField()
    committed_days = serializers.IntegerField()
    visits_required = serializers.IntegerField(required=False)
    process_steps = serializers.ListField(child=serializers.CharField(), required=False)
    service_objects = serializers.ListField(child=serializers.CharField(), required=False)
    handling_forms = serializers.ListField(child=serializers.CharField(), required=False)
    faq = FaqSerializer(many=True, required=False)

    class Meta:
        model = ServiceListing
        fields = [
            "item",
            "department",
            "level",
            "implementation_code",
            *GUIDE_FIELDS,
            "co_departments",
            "materials",
        ]


class StatusChangeSerializer(serializers.Serializer):
    to_status = serializers.CharField(help_text="1 在用 / 2 暂停 / 3 取消")
    reason = serializers.CharField(allow_blank=True)


class PowerItemSerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    items = serializers.SlugRelatedField(
        slug_field="basic_code", queryset=ServiceItem.objects.all(), many=True, required=False
    )

    class Meta:
        model = PowerItem
        fields = [
            "id",
            "code",
            "name",
            "department",
            "power_type",
            "duty",
            "accountability",
            "legal_basis",
            "items",
            "status",
            "updated_at",
        ]
        extra_kwargs = {"code": {"validators": []}}


# ---------------------------------------------------------------- filters


class ListingFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    item_type = django_filters.ChoiceFilter(field_name="item__item_type", choices=ItemType.choices)
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices)
    online = django_filters.BooleanFilter()
    service_object = django_filters.ChoiceFilter(
        choices=ServiceObject.choices, method="filter_service_object"
    )
    theme = django_filters.CharFilter(field_name="item__themes__code")

    class Meta:
        model = ServiceListing
        fields = ["department", "item_type", "status", "online", "service_object", "theme"]

    def filter_service_object(self, queryset, name, value):
        return selectors.filter_listings(queryset, {"service_object": value})


class ItemFilter(django_filters.FilterSet):
    item_type = django_filters.ChoiceFilter(choices=ItemType.choices)
    theme = django_filters.CharFilter(field_name="themes__code")

    class Meta:
        model = ServiceItem
        fields = ["item_type", "theme", "basic_code"]


# ---------------------------------------------------------------- viewsets


@extend_schema_view(
    list=extend_schema(summary="服务主题列表", auth=[]),
    retrieve=extend_schema(
        summary="服务主题", auth=[], responses={200: ThemeSerializer, 404: PROBLEM}
    ),
)
class ThemeViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = ThemeSerializer
    queryset = Theme.objects.order_by("sort_order", "code")
    lookup_field = "code"


@extend_schema_view(
    list=extend_schema(summary="政务服务事项(基本目录)", responses={200: ServiceItemSerializer}),
    retrieve=extend_schema(
        summary="政务服务事项", responses={200: ServiceItemSerializer, 404: PROBLEM}
    ),
    create=extend_schema(
        summary="新增事项(平台管理员)", responses={201: ServiceItemSerializer, **WRITE_ERRORS}
    ),
    partial_update=extend_schema(
        summary="修改事项(平台管理员)", responses={200: ServiceItemSerializer, **WRITE_ERRORS}
    ),
)
class ServiceItemViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    permission_classes = [ReadOnlyOrPlatformAdmin]
    serializer_class = ServiceItemSerializer
    queryset = ServiceItem.objects.prefetch_related("themes").order_by("basic_code")
    filterset_class = ItemFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.create_item(self.request.user, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_item(
            self.request.user, serializer.instance, serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(summary="实施清单(办事指南)列表", responses={200: ServiceListingSerializer}),
    retrieve=extend_schema(
        summary="实施清单(完整办事指南)", responses={200: ServiceListingSerializer, 404: PROBLEM}
    ),
    create=extend_schema(
        summary="新增实施清单",
        request=ListingWriteSerializer,
        responses={201: ServiceListingSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="修改实施清单(办事指南要素、申请材料)",
        request=ListingWriteSerializer,
        responses={200: ServiceListingSerializer, **WRITE_ERRORS},
    ),
)
class ServiceListingViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [CatalogEditor]
    queryset = selectors.listings_with_guide().order_by("implementation_code")
    filterset_class = ListingFilter

    def get_queryset(self):
        # One meaning of public: what the portal offers; staff also see 暂停/取消 listings.
        if is_staff_member(self.request.user):
            return super().get_queryset()
        return selectors.public_listings().order_by("implementation_code")

    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action in {"create", "partial_update", "update"}:
            return ListingWriteSerializer
        return ServiceListingSerializer

    def create(self, request, *args, **kwargs):
        serializer = ListingWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.create_listing(request.user, serializer.validated_data)
        return Response(self._read(listing), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        listing = self.get_object()
        serializer = ListingWriteSerializer(listing, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        listing = services.update_listing(request.user, listing, serializer.validated_data)
        return Response(self._read(listing))

    def _read(self, listing: ServiceListing) -> dict:
        return ServiceListingSerializer(selectors.listings_with_guide().get(pk=listing.pk)).data

    @extend_schema(
        summary="变更事项状态(在用/暂停/取消)",
        request=StatusChangeSerializer,
        responses={200: ServiceListingSerializer, **WRITE_ERRORS},
    )
    def change_status(self, request, pk=None):
        listing = self.get_object()
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.change_listing_status(
            request.user,
            listing,
            serializer.validated_data["to_status"],
            serializer.validated_data["reason"],
        )
        return Response(self._read(listing))

    @extend_schema(
        summary="替换申请材料清单",
        request=MaterialInputSerializer(many=True),
        responses={200: MaterialSerializer(many=True), **WRITE_ERRORS},
    )
    def set_materials(self, request, pk=None):
        listing = self.get_object()
        serializer = MaterialInputSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        listing = services.set_materials(request.user, listing, serializer.validated_data)
        return Response(MaterialSerializer(listing.materials.all(), many=True).data)


@extend_schema_view(
    list=extend_schema(summary="申请材料", responses={200: MaterialSerializer}),
    retrieve=extend_schema(summary="申请材料", responses={200: MaterialSerializer, 404: PROBLEM}),
)
class MaterialViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = MaterialSerializer
    queryset = MaterialRequirement.objects.order_by("listing_id", "sort_order", "id")
    filterset_fields = ["listing"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if is_staff_member(self.request.user):
            return queryset
        return queryset.filter(listing__in=selectors.public_listings().values("pk"))


@extend_schema_view(
    list=extend_schema(summary="权责清单"),
    retrieve=extend_schema(
        summary="权责清单事项", responses={200: PowerItemSerializer, 404: PROBLEM}
    ),
    create=extend_schema(
        summary="新增权责清单事项", responses={201: PowerItemSerializer, **WRITE_ERRORS}
    ),
    partial_update=extend_schema(
        summary="修改权责清单事项", responses={200: PowerItemSerializer, **WRITE_ERRORS}
    ),
)
class PowerItemViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    permission_classes = [CatalogEditor]
    serializer_class = PowerItemSerializer
    queryset = PowerItem.objects.select_related("department").prefetch_related("items")
    filterset_fields = ["department", "power_type", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.create_power_item(
            self.request.user, serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_power_item(
            self.request.user, serializer.instance, serializer.validated_data
        )


# ---------------------------------------------------------------- search, import, export


class SearchView(APIView):
    permission_classes = [AllowAny]
    # Public and the same for everyone: no token or session lookup on the hot path.
    authentication_classes = []

    @extend_schema(
        summary="搜索办事服务(分词全文检索)",
        auth=[],
        parameters=[
            OpenApiParameter("q", str, description="搜索词,如“开饭店”"),
            OpenApiParameter("department", int, description="部门编号"),
            OpenApiParameter("item_type", str, enum=ItemType.values),
            OpenApiParameter("service_object", str, enum=ServiceObject.values),
            OpenApiParameter("online", str, enum=["1", "0"]),
            OpenApiParameter("theme", str, description="服务主题编码"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: inline_serializer(
                "ListingSearchResult",
                {
                    "count": serializers.IntegerField(),
                    "partial": serializers.BooleanField(),
                    "results": ListingSummarySerializer(many=True),
                },
            ),
            400: PROBLEM,
        },
    )
    def get(self, request):
        facets = selectors.parse_filters(request.query_params)
        page, size = _page_params(request.query_params)
        result = selectors.search_listing_cards(
            request.query_params.get("q", ""), facets, limit=size, offset=(page - 1) * size
        )
        return Response({"count": result.total, "partial": result.partial, "results": result.cards})


def _page_params(params) -> tuple[int, int]:
    errors = {}
    values = {}
    for name, default, top in (("page", 1, 10_000), ("page_size", 20, 100)):
        raw = params.get(name, str(default))
        number = parse_id(raw)
        if number is None or not 1 <= number <= top:
            errors[name] = [_("%(n)s 应为 1 到 %(t)s 之间的整数") % {"n": name, "t": top}]
        else:
            values[name] = number
    if errors:
        raise serializers.ValidationError(errors)
    return values["page"], values["page_size"]


class ImportView(APIView):
    permission_classes = [IsPlatformAdmin]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        summary="导入目录(全部校验通过才写入)",
        description="JSON 正文(yiwang-catalog/1),或 multipart 上传 file(.json 或 CSV 的 .zip)。"
        "有错误时返回 400,errors 列出每一行的每一处错误。",
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={
            200: inline_serializer(
                "CatalogImportReport",
                {
                    "created": serializers.DictField(child=serializers.IntegerField()),
                    "updated": serializers.DictField(child=serializers.IntegerField()),
                    "unchanged": serializers.DictField(child=serializers.IntegerField()),
                    "status_changes": serializers.IntegerField(),
                },
            ),
            400: PROBLEM,
            401: PROBLEM,
            403: PROBLEM,
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            report = exchange.import_catalog(request.data, request.user)
        elif upload.name.lower().endswith(".zip"):
            report = exchange.import_catalog_csv(upload.read(), request.user)
        else:
            try:
                data = json.loads(upload.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise serializers.ValidationError(
                    {"file": [_("文件应为 UTF-8 编码的 JSON,或 CSV 的 zip 包")]}
                ) from exc
            report = exchange.import_catalog(data, request.user)
        return Response(report.as_dict())


class IgnoreFormatParameter(BaseContentNegotiation):
    """`?format=csv` here chooses the export format, not a DRF renderer."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    permission_classes = [IsStaff]
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="导出目录(JSON 或 CSV zip)",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], default="json")],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/zip"): OpenApiTypes.BINARY,
            400: PROBLEM,
            401: PROBLEM,
            403: PROBLEM,
        },
    )
    def get(self, request):
        kind = request.query_params.get("format", "json")
        if kind == "json":
            return Response(exchange.export_catalog())
        if kind == "csv":
            response = HttpResponse(exchange.export_catalog_csv(), content_type="application/zip")
            response["Content-Disposition"] = 'attachment; filename="catalog.zip"'
            return response
        raise serializers.ValidationError({"format": [_("format 应为 json 或 csv")]})


urlpatterns = [
    path(
        "catalog/listings/<int:pk>/status",
        ServiceListingViewSet.as_view({"post": "change_status"}),
        name="catalog-listing-status",
    ),
    path(
        "catalog/listings/<int:pk>/materials",
        ServiceListingViewSet.as_view({"put": "set_materials"}),
        name="catalog-listing-materials",
    ),
    path("catalog/search", SearchView.as_view(), name="catalog-search"),
    path("catalog/import", ImportView.as_view(), name="catalog-import"),
    path("catalog/export", ExportView.as_view(), name="catalog-export"),
]


def register(router: BaseRouter) -> None:
    """Add this domain's viewsets to the v1 router."""
    router.register("catalog/themes", ThemeViewSet, basename="catalog-theme")
    router.register("catalog/items", ServiceItemViewSet, basename="catalog-item")
    router.register("catalog/listings", ServiceListingViewSet, basename="catalog-listing")
    router.register("catalog/materials", MaterialViewSet, basename="catalog-material")
    router.register("catalog/power-items", PowerItemViewSet, basename="catalog-power-item")
