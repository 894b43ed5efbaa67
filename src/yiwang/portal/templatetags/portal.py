"""Template helpers shared by every page: `{% load portal %}`.

Pagination and filter links use Django's built-in `{% querystring %}` (5.1+).
"""

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from yiwang.crypto.fields import mask as _mask

register = template.Library()

CARE_COOKIE = "yiwang_care"


@register.filter
def care_mode(request: HttpRequest | None) -> bool:
    """True when the visitor chose 关怀模式 (larger type, higher contrast)."""
    cookies = getattr(request, "COOKIES", None) or {}
    return cookies.get(CARE_COOKIE) == "1"


@register.filter
def mask(value: object, keep: str = "4,4") -> str:
    """Mask personal data for display: `{{ id_number|mask }}`, `{{ phone|mask:"3,4" }}`."""
    start, _, end = str(keep).partition(",")
    return _mask(str(value) if value is not None else None, int(start), int(end or start))


@register.simple_tag(takes_context=True)
def nav_current(context: template.Context, prefix: str, exact: bool = False) -> SafeString:
    """` aria-current="page"` on the nav link of the section being shown."""
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == prefix if exact else path.startswith(prefix)
    return mark_safe(' aria-current="page"') if current else SafeString("")


@register.filter
def field_type(bound_field: object) -> str:
    """Widget kind for the field include: text, select, checkbox, choices, textarea, file."""
    kind = getattr(bound_field, "widget_type", "")
    if kind in {"radioselect", "checkboxselectmultiple"}:
        return "choices"
    if kind in {"checkbox", "select", "selectmultiple", "textarea"}:
        return kind
    if kind in {"file", "clearablefile"}:
        return "file"
    return "text"


@register.filter
def field_anchor(bound_field: object) -> str:
    """The id an error-summary link should jump to (the first option for radio groups)."""
    auto_id = getattr(bound_field, "auto_id", "") or ""
    if field_type(bound_field) == "choices":
        return f"{auto_id}_0"
    return getattr(bound_field, "id_for_label", "") or auto_id
