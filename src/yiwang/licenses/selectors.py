"""Read queries for the wallet, staff search and the verify page."""

import json
from typing import Any

from django.db.models import Q, QuerySet

from yiwang.identity.models import User
from yiwang.identity.permissions import department_ids_with_role, is_platform_admin
from yiwang.licenses.models import Authorization, License, LicenseType, ReusedMaterial
from yiwang.licenses.services import effective_status, holder_index, holder_of

# What a verifier may be shown for each disclosable name, in display order.
LABELS = {
    "holder_name": "持证主体",
    "holder_code": "持证主体代码",
    "number": "证照编号",
    "age_over_18": "年满18周岁",
    "age_over_60": "年满60周岁",
}


def wallet(user: User) -> QuerySet[License]:
    """The holder's licences, newest version of each first; nothing for unverified users."""
    held = holder_of(user)
    if held is None:
        return License.objects.none()
    return (
        License.objects.filter(holder_index=holder_index(held[0]))
        .exclude(status=License.Status.SUPERSEDED)
        .select_related("license_type", "issuer")
        .order_by("license_type__sort_order", "-issued_on", "-id")
    )


def staff_licenses(user: Any, query: str = "", status: str = "") -> QuerySet[License]:
    """Licences of the departments the staff member works in (all for platform admins)."""
    qs = License.objects.select_related("license_type", "issuer")
    if not is_platform_admin(user):
        qs = qs.filter(issuer_id__in=department_ids_with_role(user))
    query = (query or "").strip()
    if query:
        cond = Q(identifier=query.upper()) | Q(number=query) | Q(holder_name__startswith=query)
        if len(query) == 18:
            cond |= Q(holder_index=holder_index(query))
        qs = qs.filter(cond)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-signed_at", "-id")


def field_labels(license_type: LicenseType) -> dict[str, str]:
    return {**LABELS, **{f["name"]: f.get("label", f["name"]) for f in license_type.fields}}


def disclosable(license: License) -> list[tuple[str, str]]:
    """(name, label) of what the holder may choose to show, in display order."""
    names = set(json.loads(license.disclosures or "{}"))
    labels = field_labels(license.license_type)
    order = list(LABELS) + [f["name"] for f in license.license_type.fields]
    return [(name, labels[name]) for name in order if name in names]


def shown_claims(license_type: LicenseType | None, claims: dict[str, Any], disclosed: list[str]):
    """Disclosed claims with their labels, for the verify page and API."""
    labels = field_labels(license_type) if license_type is not None else LABELS
    return [(name, labels.get(name, name), claims.get(name)) for name in disclosed]


def authorizations(license: License) -> QuerySet[Authorization]:
    return license.authorizations.prefetch_related("uses").order_by("-created_at")


def reused_for_case(case) -> list[dict[str, Any]]:
    """For the staff case page: which materials came from licences, and their status now."""
    return [
        {
            "requirement": r.requirement,
            "license": r.license,
            "status": effective_status(r.license),
        }
        for r in ReusedMaterial.objects.filter(case=case).select_related(
            "requirement", "license__license_type", "license__issuer"
        )
    ]


def versions(license: License) -> QuerySet[License]:
    return License.objects.filter(base_identifier=license.base_identifier).order_by("-version")
