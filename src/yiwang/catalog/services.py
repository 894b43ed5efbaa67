"""Every change to the catalog: one transaction each, one audit event, index kept in step.

Rules in one place:
- who may change what: `yiwang.catalog.permissions`;
- field invariants: `models.py` (validators, `clean()`, CHECK constraints);
- status changes: `STATUS_TRANSITIONS` below, with a history row for each.

Errors are Django `ValidationError`s keyed by field (or by path such as
`materials[1].originals`), worded to say how to fix the input.
`actor=None` means the system (management commands run by the operator).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.audit.services import record, record_changes, snapshot
from yiwang.catalog import indexing
from yiwang.catalog.codes import ListingStatus
from yiwang.catalog.models import (
    ListingStatusChange,
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
)
from yiwang.catalog.permissions import require_catalog_manager, require_department_editor

THEME_FIELDS = ("code", "name", "audience", "is_life_event", "description", "sort_order")
ITEM_FIELDS = (
    "basic_code",
    "name",
    "item_type",
    "levels",
    "legal_basis",
    "service_objects",
    "keywords",
)
LISTING_FIELDS = (
    "level",
    "implementation_code",
    "name",
    "status",
    "case_kind",
    "statutory_days",
    "committed_days",
    "limit_explanation",
    "conditions",
    "process_steps",
    "handling_unit",
    "intermediary_service",
    "quantity_limit",
    "result_name",
    "result_sample",
    "fee_charged",
    "fee_basis",
    "fee_standard",
    "scope",
    "service_objects",
    "handling_forms",
    "special_procedure",
    "appointment",
    "online_payment",
    "express",
    "online",
    "visits_required",
    "location",
    "hours",
    "phone",
    "supervision_phone",
    "faq",
)
MATERIAL_FIELDS = (
    "name",
    "issuer",
    "originals",
    "copies",
    "required",
    "notes",
    "sample",
    "license_type_code",
)
POWER_FIELDS = ("code", "name", "power_type", "duty", "accountability", "legal_basis", "status")

# 事项状态: every allowed change is one line; 取消 is final.
STATUS_TRANSITIONS: dict[str, set[str]] = {
    ListingStatus.IN_USE: {ListingStatus.SUSPENDED, ListingStatus.CANCELLED},
    ListingStatus.SUSPENDED: {ListingStatus.IN_USE, ListingStatus.CANCELLED},
    ListingStatus.CANCELLED: set(),
}

Errors = dict[str, list[str]]


def _add(errors: Errors, key: str, message: Any) -> None:
    errors.setdefault(key, []).append(str(message))


def _merge(errors: Errors, exc: ValidationError) -> None:
    for key, messages in exc.message_dict.items():
        for message in messages:
            _add(errors, "non_field_errors" if key == "__all__" else key, message)


def _clean(instance: Any, exclude: Iterable[str] = ()) -> Errors:
    """Field validators and `clean()`, without the database round trips of uniqueness checks."""
    errors: Errors = {}
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        _merge(errors, exc)
    return errors


def status_change_error(from_status: str, to_status: str) -> str | None:
    """Why `from_status → to_status` is refused, or None when the table allows it."""
    if to_status not in ListingStatus.values:
        return _("事项状态 %(s)s 不在代码表中,可选:1 在用、2 暂停、3 取消") % {"s": to_status}
    if to_status == from_status or to_status in STATUS_TRANSITIONS[from_status]:
        return None
    if from_status == ListingStatus.CANCELLED:
        return _("已取消的事项不能再变更状态(不能从“取消”改为“%(to)s”)") % {
            "to": ListingStatus(to_status).label
        }
    return _("事项状态不能从“%(f)s”改为“%(to)s”") % {
        "f": ListingStatus(from_status).label,
        "to": ListingStatus(to_status).label,
    }


# ---------------------------------------------------------------- state for audit


def theme_state(theme: Theme) -> dict[str, Any]:
    return snapshot(theme, THEME_FIELDS)


def item_state(item: ServiceItem) -> dict[str, Any]:
    data = snapshot(item, ITEM_FIELDS)
    data["themes"] = sorted(t.code for t in item.themes.all()) if item.pk else []
    return data


def listing_state(listing: ServiceListing, *, with_materials: bool = False) -> dict[str, Any]:
    data = snapshot(listing, (*LISTING_FIELDS, "item", "department"))
    data["co_departments"] = (
        sorted(d.credit_code for d in listing.co_departments.all()) if listing.pk else []
    )
    if with_materials:
        data["materials"] = materials_state(listing)
    return data


def materials_state(listing: ServiceListing) -> list[dict[str, Any]]:
    if not listing.pk:
        return []
    return [
        {f: getattr(m, f) for f in MATERIAL_FIELDS}
        for m in listing.materials.order_by("sort_order", "id")
    ]


def power_state(power: PowerItem) -> dict[str, Any]:
    data = snapshot(power, (*POWER_FIELDS, "department"))
    data["items"] = sorted(i.basic_code for i in power.items.all()) if power.pk else []
    return data


# ---------------------------------------------------------------- themes


def prepare_theme(theme: Theme, data: Mapping[str, Any]) -> Errors:
    for field in THEME_FIELDS:
        if field in data:
            setattr(theme, field, data[field])
    errors = _clean(theme)
    if "code" not in errors and Theme.objects.filter(code=theme.code).exclude(pk=theme.pk).exists():
        _add(errors, "code", _("主题编码 %(c)s 已被使用,请换一个") % {"c": theme.code})
    return errors


def save_theme(actor: Any, theme: Theme, before: dict) -> bool:
    creating = theme.pk is None
    theme.save()
    return record_changes(
        actor,
        "catalog.theme.create" if creating else "catalog.theme.update",
        theme,
        before,
        theme_state(theme),
    )


# ---------------------------------------------------------------- items


def prepare_item(item: ServiceItem, data: Mapping[str, Any]) -> Errors:
    for field in ITEM_FIELDS:
        if field in data:
            setattr(item, field, data[field])
    errors = _clean(item)
    if (
        "basic_code" not in errors
        and ServiceItem.objects.filter(basic_code=item.basic_code).exclude(pk=item.pk).exists()
    ):
        _add(errors, "basic_code", _("基本编码 %(c)s 已存在,请核对") % {"c": item.basic_code})
    if item.pk and "basic_code" in data and "basic_code" not in errors:
        old = ServiceItem.objects.filter(pk=item.pk).values_list("basic_code", flat=True).first()
        if old != item.basic_code and item.listings.exists():
            _add(errors, "basic_code", _("已有实施清单的事项不能修改基本编码,请新建事项"))
    if item.pk and "levels" in data and "levels" not in errors:
        stranded = sorted(
            item.listings.exclude(level__in=item.levels).values_list(
                "implementation_code", flat=True
            )
        )
        if stranded:
            _add(
                errors,
                "levels",
                _("以下实施清单的行使层级不在新的层级中,请先调整或取消这些清单:%(codes)s")
                % {"codes": str(_("、")).join(stranded)},
            )
    return errors


def save_item(actor: Any, item: ServiceItem, before: dict, themes: list[Theme] | None) -> bool:
    creating = item.pk is None
    item.save()
    if themes is not None:
        item.themes.set(themes)
    changed = record_changes(
        actor,
        "catalog.item.create" if creating else "catalog.item.update",
        item,
        before,
        item_state(item),
    )
    if changed and not creating:
        indexing.reindex_item(item)
    return changed


@transaction.atomic
def create_item(actor: Any, data: Mapping[str, Any]) -> ServiceItem:
    """Add a basic-catalog item; `data["themes"]` is a list of `Theme`s."""
    require_catalog_manager(actor)
    item = ServiceItem()
    errors = prepare_item(item, data)
    if errors:
        raise ValidationError(errors)
    save_item(actor, item, {}, list(data.get("themes", [])))
    return item


@transaction.atomic
def update_item(actor: Any, item: ServiceItem, data: Mapping[str, Any]) -> ServiceItem:
    require_catalog_manager(actor)
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    before = item_state(item)
    errors = prepare_item(item, data)
    if errors:
        raise ValidationError(errors)
    themes = list(data["themes"]) if "themes" in data else None
    save_item(actor, item, before, themes)
    return item


# ---------------------------------------------------------------- listings and materials


def material_errors(materials: list[Mapping[str, Any]]) -> Errors:
    """Check a listing's material list; keys are paths like `materials[1].originals`."""
    errors: Errors = {}
    seen: set[str] = set()
    for i, data in enumerate(materials):
        prefix = f"materials[{i}]."
        if not isinstance(data, Mapping):
            _add(errors, f"materials[{i}]", _("每项材料应为一个对象"))
            continue
        material = MaterialRequirement(**{f: data[f] for f in MATERIAL_FIELDS if f in data})
        for key, messages in _clean(material, exclude=("listing", "code")).items():
            for message in messages:
                _add(errors, prefix + key, message)
        name = str(data.get("name", "")).strip()
        if name in seen:
            _add(errors, prefix + "name", _("材料名称“%(n)s”重复,请合并或改名") % {"n": name})
        seen.add(name)
    return errors


def prepare_listing(listing: ServiceListing, data: Mapping[str, Any], *, creating: bool) -> Errors:
    """Assign `data` to `listing` and return every rule it breaks (nothing saved)."""
    for field in LISTING_FIELDS:
        if field in data:
            setattr(listing, field, data[field])
    for relation in ("item", "department"):
        if relation in data:
            setattr(listing, relation, data[relation])
    errors: Errors = {}
    if not creating and "status" in data:
        current = (
            ServiceListing.objects.filter(pk=listing.pk).values_list("status", flat=True).first()
        )
        if current != listing.status:
            _add(errors, "status", _("请通过“变更状态”修改事项状态,并填写原因"))
    item = listing.item if listing._item_set() else None
    if creating and "service_objects" not in data and item is not None:
        listing.service_objects = list(item.service_objects)
    if not data.get("implementation_code"):
        listing.implementation_code = listing.expected_implementation_code() or ""
    for key, messages in _clean(listing, exclude=("item", "department")).items():
        for message in messages:
            _add(errors, key, message)
    if (
        "implementation_code" not in errors
        and listing.implementation_code
        and ServiceListing.objects.filter(implementation_code=listing.implementation_code)
        .exclude(pk=listing.pk)
        .exists()
    ):
        _add(
            errors,
            "implementation_code",
            _("实施编码 %(c)s 已存在:该部门已在此层级实施该事项")
            % {"c": listing.implementation_code},
        )
    if "materials" in data:
        errors.update(material_errors(list(data["materials"])))
    return errors


def sync_materials(listing: ServiceListing, materials: list[Mapping[str, Any]]) -> None:
    """Upsert materials by name, keep their codes, delete the ones no longer listed."""
    existing = {m.name: m for m in listing.materials.all()}
    wanted = [str(m["name"]).strip() for m in materials]
    listing.materials.exclude(name__in=wanted).delete()
    used = [int(m.code[31:]) for n, m in existing.items() if n in wanted and m.code[31:].isdigit()]
    next_number = max(used, default=0) + 1
    for order, data in enumerate(materials):
        name = str(data["name"]).strip()
        material = existing.get(name)
        if material is None:
            material = MaterialRequirement(listing=listing, name=name)
            material.code = f"{listing.implementation_code}{next_number:03d}"
            next_number += 1
        before = {f: getattr(material, f) for f in (*MATERIAL_FIELDS, "sort_order")}
        for field in MATERIAL_FIELDS:
            if field in data and field != "name":
                setattr(material, field, data[field])
        material.sort_order = order
        material.full_clean(
            exclude=["listing", "code"], validate_unique=False, validate_constraints=False
        )
        after = {f: getattr(material, f) for f in (*MATERIAL_FIELDS, "sort_order")}
        if material.pk is None or before != after:
            material.save()


def _recode_materials(listing: ServiceListing) -> None:
    for material in listing.materials.all():
        code = listing.implementation_code + material.code[31:]
        if material.code != code:
            material.code = code
            material.save(update_fields=["code"])


def save_listing(
    actor: Any,
    listing: ServiceListing,
    before: dict,
    *,
    co_departments: list | None = None,
    materials: list[Mapping[str, Any]] | None = None,
    action: str = "",
) -> bool:
    """Write a prepared listing with its relations, index it, audit the change."""
    creating = listing.pk is None
    old_code = (
        None
        if creating
        else ServiceListing.objects.filter(pk=listing.pk)
        .values_list("implementation_code", flat=True)
        .first()
    )
    listing.save()
    if old_code and old_code != listing.implementation_code:
        _recode_materials(listing)
    if co_departments is not None:
        listing.co_departments.set(co_departments)
    if materials is not None:
        sync_materials(listing, materials)
    changed = record_changes(
        actor,
        action or ("catalog.listing.create" if creating else "catalog.listing.update"),
        listing,
        before,
        listing_state(listing, with_materials=materials is not None),
        department_id=listing.department_id,
    )
    if changed:
        indexing.reindex_listing(listing)
    return changed


def _split(data: Mapping[str, Any]) -> tuple[list | None, list | None]:
    co = list(data["co_departments"]) if "co_departments" in data else None
    materials = list(data["materials"]) if "materials" in data else None
    return co, materials


@transaction.atomic
def create_listing(actor: Any, data: Mapping[str, Any]) -> ServiceListing:
    """Add a 实施清单. `data` holds model fields plus `item` and `department` objects,
    and optionally `co_departments` (departments) and `materials` (dicts)."""
    department = data.get("department")
    require_department_editor(actor, getattr(department, "pk", None))
    listing = ServiceListing()
    errors = prepare_listing(listing, data, creating=True)
    if errors:
        raise ValidationError(errors)
    co, materials = _split(data)
    save_listing(actor, listing, {}, co_departments=co, materials=materials)
    return listing


@transaction.atomic
def update_listing(actor: Any, listing: ServiceListing, data: Mapping[str, Any]) -> ServiceListing:
    """Change a listing's guide elements (and its materials when `data` has `materials`)."""
    require_department_editor(actor, listing.department_id)
    listing = ServiceListing.objects.select_for_update().select_related("item").get(pk=listing.pk)
    if "department" in data:
        require_department_editor(actor, getattr(data["department"], "pk", None))
    co, materials = _split(data)
    before = listing_state(listing, with_materials=materials is not None)
    errors = prepare_listing(listing, data, creating=False)
    if errors:
        raise ValidationError(errors)
    save_listing(actor, listing, before, co_departments=co, materials=materials)
    return listing


@transaction.atomic
def set_materials(
    actor: Any, listing: ServiceListing, materials: list[Mapping[str, Any]]
) -> ServiceListing:
    """Replace a listing's material list (matched by name, so codes stay stable)."""
    require_department_editor(actor, listing.department_id)
    listing = ServiceListing.objects.select_for_update().get(pk=listing.pk)
    errors = material_errors(materials)
    if errors:
        raise ValidationError(errors)
    before = {"materials": materials_state(listing)}
    sync_materials(listing, materials)
    if record_changes(
        actor,
        "catalog.listing.materials",
        listing,
        before,
        {"materials": materials_state(listing)},
        department_id=listing.department_id,
    ):
        indexing.reindex_listing(listing)
    return listing


def apply_status(actor: Any, listing: ServiceListing, to_status: str, reason: str) -> None:
    """Record a status change on a locked, validated listing (history row + index)."""
    ListingStatusChange.objects.create(
        listing=listing,
        from_status=listing.status,
        to_status=to_status,
        reason=reason,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    listing.status = to_status
    listing.save(update_fields=["status", "updated_at"])


@transaction.atomic
def change_listing_status(
    actor: Any, listing: ServiceListing, to_status: str, reason: str
) -> ServiceListing:
    """在用 ⇄ 暂停, either → 取消 (final); the reason is kept in the history."""
    require_department_editor(actor, listing.department_id)
    listing = ServiceListing.objects.select_for_update().select_related("item").get(pk=listing.pk)
    errors: Errors = {}
    to_status = str(to_status)
    problem = status_change_error(listing.status, to_status)
    if problem is None and to_status == listing.status:
        problem = _("事项已是“%(s)s”状态,无需变更") % {"s": listing.get_status_display()}
    if problem:
        _add(errors, "to_status", problem)
    reason = (reason or "").strip()
    if not reason:
        _add(errors, "reason", _("请填写变更原因,例如依据的文件或调整说明"))
    if errors:
        raise ValidationError(errors)
    before = {"status": listing.status}
    apply_status(actor, listing, to_status, reason)
    record(
        actor,
        "catalog.listing.status",
        listing,
        before=before,
        after={"status": to_status, "reason": reason},
        department_id=listing.department_id,
    )
    indexing.reindex_listing(listing)
    return listing


# ---------------------------------------------------------------- power items


def prepare_power_item(power: PowerItem, data: Mapping[str, Any]) -> Errors:
    for field in POWER_FIELDS:
        if field in data:
            setattr(power, field, data[field])
    if "department" in data:
        power.department = data["department"]
    errors = _clean(power, exclude=("department",))
    if (
        "code" not in errors
        and PowerItem.objects.filter(code=power.code).exclude(pk=power.pk).exists()
    ):
        _add(errors, "code", _("权力编码 %(c)s 已存在,请核对") % {"c": power.code})
    return errors


def save_power_item(actor: Any, power: PowerItem, before: dict, items: list | None) -> bool:
    creating = power.pk is None
    power.save()
    if items is not None:
        power.items.set(items)
    return record_changes(
        actor,
        "catalog.power.create" if creating else "catalog.power.update",
        power,
        before,
        power_state(power),
        department_id=power.department_id,
    )


@transaction.atomic
def create_power_item(actor: Any, data: Mapping[str, Any]) -> PowerItem:
    """Add a 权责清单 entry; `data["items"]` lists related `ServiceItem`s."""
    require_department_editor(actor, getattr(data.get("department"), "pk", None))
    power = PowerItem()
    errors = prepare_power_item(power, data)
    if errors:
        raise ValidationError(errors)
    save_power_item(actor, power, {}, list(data.get("items", [])))
    return power


@transaction.atomic
def update_power_item(actor: Any, power: PowerItem, data: Mapping[str, Any]) -> PowerItem:
    require_department_editor(actor, power.department_id)
    if "department" in data:
        require_department_editor(actor, getattr(data["department"], "pk", None))
    power = PowerItem.objects.select_for_update().get(pk=power.pk)
    before = power_state(power)
    errors = prepare_power_item(power, data)
    if errors:
        raise ValidationError(errors)
    save_power_item(actor, power, before, list(data["items"]) if "items" in data else None)
    return power
