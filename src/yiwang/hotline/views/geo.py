"""The city's districts and streets as GeoJSON, for the maps on the report form and dashboard."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from yiwang.hotline.models import Area


@require_GET
def areas_geojson(request: HttpRequest) -> JsonResponse:
    """Public: outlines are no secret, and the portal's report form needs them to pick a place.

    `?level=street` (default) gives the streets, `?level=district` the districts."""
    level = request.GET.get("level", "street")
    areas = Area.objects.exclude(geometry={}).select_related("parent")
    parents = set(Area.objects.exclude(parent=None).values_list("parent_id", flat=True))
    if level == "district":
        chosen = [a for a in areas if a.pk in parents and a.parent_id is not None]
    else:
        chosen = [a for a in areas if a.pk not in parents]
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": area.code,
                "name": area.name,
                "parent": area.parent.name if area.parent_id else "",
            },
            "geometry": area.geometry,
        }
        for area in chosen
    ]
    response = JsonResponse(
        {"type": "FeatureCollection", "features": features},
        content_type="application/json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response
