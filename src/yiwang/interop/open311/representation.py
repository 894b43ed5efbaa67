"""GeoReport v2 documents as plain data, one function per resource, fields in the spec's
order. `render` writes the same data as XML or JSON (the spec's "Spark convention")."""

import datetime as dt
import decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.hotline.models import CLOSED_STATUSES, Category, LimitUnit, Ticket
from yiwang.hotline.services import hotline_centre
from yiwang.interop.models import Open311Attribute, Open311Request
from yiwang.interop.services import MAX_DESCRIPTION
from yiwang.interop.text import mask_personal

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed (discovery's `changeset`).
CHANGESET = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
FORMATS = ["text/xml", "application/json"]
S = Ticket.Status


def iso(moment: dt.datetime | None) -> str | None:
    """W3C/ISO 8601 with the zone, in the city's time: 2026-05-01T08:30:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _amount(value: decimal.Decimal) -> str:
    return format(value.normalize(), "f")


def jurisdiction_id() -> str:
    return getattr(settings, "YIWANG_OPEN311_JURISDICTION", "shifan.gov.cn")


def discovery(request: HttpRequest) -> dict[str, Any]:
    centre = hotline_centre()
    contact = " ".join(p for p in (centre.name, centre.phone) if p) if centre else ""
    return {
        "changeset": iso(CHANGESET),
        "contact": contact or _("12345 政务服务便民热线"),
        "key_service": _("提交服务请求需要 api_key,请向平台管理员申请(docs/open311.md)"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(reverse("open311:root")),
                "changeset": iso(CHANGESET),
                "type": "test" if getattr(settings, "DEMO", False) else "production",
                "formats": FORMATS,
            }
        ],
    }


def service(category: Category) -> dict[str, Any]:
    keywords = [w for w in category.keywords.split() if w]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.path_name,
        "metadata": bool(category.has_attributes),
        "type": "realtime",
        "keywords": ", ".join(keywords) or None,
        "group": category.parent.name if category.parent_id else None,
    }


def attribute(item: Open311Attribute) -> dict[str, Any]:
    data: dict[str, Any] = {
        "variable": item.variable,
        "code": item.code,
        "datatype": item.datatype,
        "required": item.required,
        "datatype_description": item.datatype_description or None,
        "order": item.order,
        "description": item.description,
    }
    if item.is_list:
        data["values"] = [{"key": v["key"], "name": v["name"]} for v in item.values]
    return data


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [attribute(a) for a in category.open311_attributes.all()],
    }


def service_notice(category: Category) -> str:
    """What will happen, from the dispatch catalogue: who handles it and by when."""
    hours = _amount(decimal.Decimal(str(getattr(settings, "YIWANG_HOTLINE_DISPATCH_HOURS", 2))))
    department = category.department.name if category.department_id else _("承办部门")
    return _(
        "12345 热线将在 %(hours)s 个工作小时内派单;由%(department)s办理,"
        "办结时限 %(limit)s 个%(unit)s。"
    ) % {
        "hours": hours,
        "department": department,
        "limit": _amount(category.handle_limit),
        "unit": LimitUnit(category.handle_unit).label,
    }


def status_notes(ticket: Ticket) -> str:
    """The step the ticket is in, in plain words, with what the reporter was told."""
    department = ticket.lead_department.name if ticket.lead_department_id else ""
    note = getattr(ticket, "public_note", None) or ""
    notes = {
        S.REPORTED: _("已受理,待核实"),
        S.VERIFIED: _("已核实,待立案"),
        S.REGISTERED: _("已立案,待派单"),
        S.DISPATCHED: _("已派单至%(d)s,待签收") % {"d": department},
        S.SIGNED: _("%(d)s正在处置") % {"d": department},
        S.HANDLED: _("已处置,待核查:%(r)s") % {"r": ticket.result},
        S.CHECKED: _("核查通过,待回访:%(r)s") % {"r": ticket.result},
        S.CLOSED: _("已办结:%(r)s") % {"r": ticket.result},
        S.REJECTED: _("不予立案:%(n)s") % {"n": note},
        S.ANSWERED: _("已答复:%(n)s") % {"n": note},
        S.MERGED: _("与工单 %(n)s 合并办理")
        % {"n": ticket.merged_into.number if ticket.merged_into_id else ""},
    }
    return mask_personal(notes.get(ticket.status, ticket.get_status_display()).rstrip(":"))


def _description(ticket: Ticket) -> str:
    text = mask_personal(ticket.description)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _area_name(ticket: Ticket) -> str | None:
    """Where a report made only with coordinates is: its district and street."""
    if not ticket.area_id:
        return None
    area = ticket.area
    return " ".join(a.name for a in (area.parent, area) if a is not None)


def _number(value: decimal.Decimal | None) -> float | None:
    return float(value) if value is not None else None


def service_request(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the public may see it: no reporter, masked free text (docs/open311.md)."""
    updated = getattr(ticket, "updated_at", None) or ticket.created_at
    return {
        "service_request_id": ticket.number,
        "status": "closed" if ticket.status in CLOSED_STATUSES else "open",
        "status_notes": status_notes(ticket),
        "service_name": ticket.category.name,
        "service_code": ticket.category.code,
        "description": _description(ticket),
        "agency_responsible": ticket.lead_department.name if ticket.lead_department_id else None,
        "service_notice": service_notice(ticket.category),
        "requested_datetime": iso(ticket.created_at),
        "updated_datetime": iso(updated),
        "expected_datetime": iso(ticket.handle_due),
        "address": mask_personal(ticket.address) or _area_name(ticket),
        "address_id": ticket.area.code if ticket.area_id else None,
        "zipcode": None,
        "lat": _number(ticket.latitude),
        "long": _number(ticket.longitude),
        "media_url": getattr(ticket, "media_url", None) or None,
    }


def created(submitted: Open311Request) -> dict[str, Any]:
    """POST answer: realtime services return the id, so no token (GeoReport v2)."""
    return {
        "service_request_id": submitted.ticket.number,
        "service_notice": service_notice(submitted.ticket.category),
        "account_id": submitted.account_id or None,
    }


def token(submitted: Open311Request) -> dict[str, Any]:
    return {"service_request_id": submitted.ticket.number, "token": submitted.token}


def errors(status: int, descriptions: list[str]) -> list[dict[str, Any]]:
    return [{"code": status, "description": d} for d in descriptions]
