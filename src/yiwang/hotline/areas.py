"""Which street (街道) a reported point lies in, for hot spots and the map.

Ray casting over the GeoJSON outlines kept on `Area` (a city has a few dozen streets,
so a scan in Python needs no spatial database). Coordinates are
WGS 84 (longitude, latitude), as the map and Open311 send them.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal

from yiwang.hotline.models import Area

Ring = Sequence[Sequence[float]]


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _polygons(geometry: dict) -> Iterable[Sequence[Ring]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        yield geometry.get("coordinates") or []
    elif kind == "MultiPolygon":
        yield from geometry.get("coordinates") or []


def contains(geometry: dict, longitude: float, latitude: float) -> bool:
    """Inside the outer ring of one of the polygons and outside its holes."""
    for rings in _polygons(geometry):
        inside = bool(rings) and _in_ring(longitude, latitude, rings[0])
        if inside and not any(_in_ring(longitude, latitude, hole) for hole in rings[1:]):
            return True
    return False


def area_at(latitude: Decimal | float | None, longitude: Decimal | float | None) -> Area | None:
    """The smallest area (a street, not its district) containing the point, if any."""
    if latitude is None or longitude is None:
        return None
    for area in Area.objects.filter(children=None).exclude(geometry={}):
        if contains(area.geometry, float(longitude), float(latitude)):
            return area
    return None
