"""Import and export of the whole catalog (docs/catalog-format.md).

Import is all-or-nothing: both formats are parsed into the same rows, every
row is checked with the same rules the services use, and only if no row has
an error is anything written, in one transaction. Errors carry the row's
place in the file (`items[3].listings[0].committed_days`, or
`listings.csv line 14, column committed_days`). Matching keys make a second
import of the same file a no-op: items by `basic_code`, listings by
`implementation_code`, materials by `(listing, name)`, power items by `code`.
"""

import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.audit.services import record, snapshot
from yiwang.catalog import indexing, services
from yiwang.catalog.models import MaterialRequirement, PowerItem, ServiceItem, ServiceListing, Theme
from yiwang.catalog.permissions import require_catalog_manager
from yiwang.identity.models import Department

FORMAT = "yiwang-catalog/1"
IMPORT_REASON = "目录导入"

THEME_KEYS = ("code", "name", "audience", "is_life_event", "description", "sort_order")
ITEM_KEYS = (
    "basic_code",
    "name",
    "item_type",
    "levels",
    "legal_basis",
    "service_objects",
    "keywords",
    "themes",
)
LISTING_KEYS = (
    "department",
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
    "co_departments",
    "handling_unit",
    "intermediary_service",
    "quantity_limit",
    "result_name",
    "result_sample",
    "fee",
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
MATERIAL_KEYS = services.MATERIAL_FIELDS
POWER_KEYS = (
    "code",
    "name",
    "department",
    "power_type",
    "duty",
    "accountability",
    "legal_basis",
    "items",
    "status",
)
FEE_KEYS = ("charged", "basis", "standard")

# CSV: one file per table; list columns are ";"-separated, `fee` is three columns.
CSV_FILES = ("themes", "items", "listings", "materials", "power_items")
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "themes": THEME_KEYS,
    "items": ITEM_KEYS,
    "listings": (
        "basic_code",
        *(c for k in LISTING_KEYS for c in ([f"fee_{f}" for f in FEE_KEYS] if k == "fee" else [k])),
    ),
    "materials": ("implementation_code", *MATERIAL_KEYS),
    "power_items": POWER_KEYS,
}
CSV_INT = {"sort_order", "level", "statutory_days", "committed_days", "visits_required"} | {
    "originals",
    "copies",
}
CSV_BOOL = {
    "is_life_event",
    "appointment",
    "online_payment",
    "express",
    "online",
    "required",
    "fee_charged",
}
CSV_LIST = {
    "levels",
    "service_objects",
    "keywords",
    "themes",
    "process_steps",
    "co_departments",
    "handling_forms",
    "items",
}
TRUE_WORDS = {"true", "1", "yes", "y", "是"}
FALSE_WORDS = {"false", "0", "no", "n", "否", ""}


class CatalogImportError(ValidationError):
    """Every row-level error of a rejected import, keyed by its place in the file."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__({k: list(v) for k, v in errors.items()})

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.message_dict


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    status_changes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
            "status_changes": self.status_changes,
        }

    def __str__(self) -> str:
        kinds = ("themes", "items", "listings", "power_items")
        return "; ".join(
            f"{k}: +{self.created[k]} ~{self.updated[k]} ={self.unchanged[k]}" for k in kinds
        )


Loc = Callable[[str], str]


def _json_loc(prefix: str) -> Loc:
    json_names = {"fee_charged": "fee.charged", "fee_basis": "fee.basis"}
    json_names["fee_standard"] = "fee.standard"
    return lambda key: f"{prefix}.{json_names.get(key, key)}" if key else prefix


def _csv_loc(table: str, line: int) -> Loc:
    return lambda key: (
        f"{table}.csv line {line}, column {key}" if key else f"{table}.csv line {line}"
    )


@dataclass
class Row:
    loc: Loc
    data: dict[str, Any]
    parent: Any = None  # item Row for listings, listing Row for materials, or a code from CSV
    instance: Any = None
    before: dict | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    themes: list[Row] = field(default_factory=list)
    items: list[Row] = field(default_factory=list)
    listings: list[Row] = field(default_factory=list)
    materials: list[Row] = field(default_factory=list)
    power_items: list[Row] = field(default_factory=list)


class _Errors(dict):
    def add(self, path: str, message: Any) -> None:
        self.setdefault(path, []).append(str(message))

    def merge(self, loc: Loc, errors: Mapping[str, list[str]]) -> None:
        for key, messages in errors.items():
            for message in messages:
                self.add(loc("" if key == "non_field_errors" else key), message)


# ---------------------------------------------------------------- parsing


# The only keys whose values may be lists or objects; every other value is text or a number.
STRUCTURED_KEYS = {
    "levels",
    "service_objects",
    "keywords",
    "themes",
    "items",
    "listings",
    "materials",
    "process_steps",
    "co_departments",
    "handling_forms",
    "faq",
    "fee",
}


def _check_keys(row: Row, allowed: tuple[str, ...], errors: _Errors) -> bool:
    """Shape first: an object with known keys, and lists or objects only where expected."""
    if not isinstance(row.data, dict):
        errors.add(row.loc(""), _("应为一个对象"))
        return False
    well_formed = True
    for key, value in row.data.items():
        if key not in allowed:
            errors.add(row.loc(key), _("未知字段 %(k)s,请对照目录格式说明删除或改名") % {"k": key})
        elif isinstance(value, list | dict) and key not in STRUCTURED_KEYS:
            errors.add(row.loc(key), _("应为文本或数字,不能是列表或对象"))
            well_formed = False
    return well_formed


def parse_json(data: Any, errors: _Errors) -> Parsed:
    parsed = Parsed()
    if not isinstance(data, dict):
        errors.add("format", _("文件内容应为 JSON 对象"))
        return parsed
    if data.get("format") != FORMAT:
        errors.add("format", _("format 应为 %(f)s") % {"f": FORMAT})
    for key in data:
        if key not in {"format", "themes", "items", "power_items"}:
            errors.add(key, _("未知字段 %(k)s,请对照目录格式说明删除或改名") % {"k": key})
    sections = {}
    for section in ("themes", "items", "power_items"):
        value = data.get(section, [])
        if not isinstance(value, list):
            errors.add(section, _("%(s)s 应为列表") % {"s": section})
            value = []
        sections[section] = value
    for i, raw in enumerate(sections["themes"]):
        row = Row(_json_loc(f"themes[{i}]"), raw)
        if _check_keys(row, THEME_KEYS, errors):
            parsed.themes.append(row)
    for i, raw in enumerate(sections["items"]):
        row = Row(_json_loc(f"items[{i}]"), raw)
        if not _check_keys(row, (*ITEM_KEYS, "listings"), errors):
            continue
        listings = row.data.pop("listings", [])
        parsed.items.append(row)
        if not isinstance(listings, list):
            errors.add(row.loc("listings"), _("listings 应为列表"))
            continue
        for j, raw_listing in enumerate(listings):
            lrow = Row(_json_loc(f"items[{i}].listings[{j}]"), raw_listing, parent=row)
            if not _check_keys(lrow, (*LISTING_KEYS, "materials"), errors):
                continue
            materials = lrow.data.pop("materials", [])
            fee = lrow.data.pop("fee", {})
            if isinstance(fee, dict):
                for key in fee:
                    if key not in FEE_KEYS:
                        errors.add(
                            lrow.loc(f"fee.{key}"), _("未知字段,可选 charged、basis、standard")
                        )
                lrow.data.update({f"fee_{k}": fee[k] for k in FEE_KEYS if k in fee})
            else:
                errors.add(lrow.loc("fee"), _("fee 应为对象:{charged, basis, standard}"))
            parsed.listings.append(lrow)
            if not isinstance(materials, list):
                errors.add(lrow.loc("materials"), _("materials 应为列表"))
                continue
            for k, raw_material in enumerate(materials):
                mrow = Row(_json_loc(f"{lrow.loc('')}.materials[{k}]"), raw_material, parent=lrow)
                if _check_keys(mrow, MATERIAL_KEYS, errors):
                    parsed.materials.append(mrow)
    for i, raw in enumerate(sections["power_items"]):
        row = Row(_json_loc(f"power_items[{i}]"), raw)
        if _check_keys(row, POWER_KEYS, errors):
            parsed.power_items.append(row)
    return parsed


def _csv_value(column: str, text: str, loc: Loc, errors: _Errors) -> Any:
    text = text.strip()
    if column in CSV_INT:
        return int(text) if re.fullmatch(r"-?\d+", text) else (text or None)
    if column in CSV_BOOL:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        return text
    if column in CSV_LIST:
        parts = [p.strip() for p in text.split(";") if p.strip()]
        if column == "levels":
            return [int(p) if p.isdigit() else p for p in parts]
        return parts
    if column == "faq":
        if not text:
            return []
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            errors.add(
                loc(column), _('常见问题应为 JSON 文本,如 [{"question": "…", "answer": "…"}]')
            )
            return []
    return text


def parse_csv(tables: Mapping[str, str], errors: _Errors) -> Parsed:
    """`tables` maps a table name (`items`) to the text of its CSV file."""
    parsed = Parsed()
    if not any(name in tables for name in CSV_FILES):
        errors.add("files", _("未找到 themes.csv、items.csv、listings.csv 等文件"))
    listing_by_code: dict[str, Row] = {}
    item_by_code: dict[str, Row] = {}
    for name in CSV_FILES:
        if name not in tables:
            continue
        reader = csv.DictReader(io.StringIO(tables[name]))
        columns = CSV_COLUMNS[name]
        for column in reader.fieldnames or []:
            if column not in columns:
                errors.add(
                    f"{name}.csv line 1, column {column}",
                    _("未知列 %(c)s,可用的列:%(cols)s") % {"c": column, "cols": ", ".join(columns)},
                )
        for raw in reader:
            loc = _csv_loc(name, reader.line_num)
            data = {
                column: _csv_value(column, value or "", loc, errors)
                for column, value in raw.items()
                if column in columns
            }
            data = {k: v for k, v in data.items() if v is not None}
            row = Row(loc, data)
            if name == "themes":
                parsed.themes.append(row)
            elif name == "items":
                parsed.items.append(row)
                item_by_code.setdefault(str(data.get("basic_code", "")), row)
            elif name == "listings":
                row.parent = item_by_code.get(str(data.get("basic_code", "")))
                row.extra["basic_code"] = data.pop("basic_code", "")
                parsed.listings.append(row)
                code = str(data.get("implementation_code", ""))
                if code:
                    listing_by_code.setdefault(code, row)
            elif name == "materials":
                row.extra["implementation_code"] = str(data.pop("implementation_code", ""))
                parsed.materials.append(row)
            else:
                parsed.power_items.append(row)
    for row in parsed.materials:
        row.parent = listing_by_code.get(row.extra["implementation_code"])
        if row.parent is None:
            row.parent = row.extra["implementation_code"]
    return parsed


# ---------------------------------------------------------------- validation


class _Plan:
    """Validated instances ready to write, built from parsed rows."""

    def __init__(self, parsed: Parsed, errors: _Errors):
        self.parsed = parsed
        self.errors = errors
        self.departments = {d.credit_code: d for d in Department.objects.all()}
        self.theme_by_code: dict[str, Theme] = {t.code: t for t in Theme.objects.all()}
        self.item_by_code: dict[str, ServiceItem] = {}
        self.listing_by_code: dict[str, Row] = {}

    def department(self, code: Any, loc: Loc, key: str) -> Department | None:
        department = self.departments.get(str(code))
        if department is None:
            self.errors.add(
                loc(key),
                _("实施主体 %(c)s 不存在:请先在部门管理中添加该统一社会信用代码的部门")
                % {"c": code},
            )
        return department

    def item(self, code: str) -> ServiceItem | None:
        if code not in self.item_by_code:
            found = ServiceItem.objects.filter(basic_code=code).first()
            if found is None:
                return None
            self.item_by_code[code] = found
        return self.item_by_code[code]

    def check_themes(self) -> None:
        seen: set[str] = set()
        for row in self.parsed.themes:
            code = str(row.data.get("code", ""))
            theme = Theme.objects.filter(code=code).first() or Theme()
            row.before = services.theme_state(theme) if theme.pk else {}
            self.errors.merge(row.loc, services.prepare_theme(theme, row.data))
            if code in seen:
                self.errors.add(row.loc("code"), _("主题编码 %(c)s 在文件中重复") % {"c": code})
            seen.add(code)
            row.instance = theme
            self.theme_by_code[code] = theme

    def check_items(self) -> None:
        seen: set[str] = set()
        for row in self.parsed.items:
            data = dict(row.data)
            code = str(data.get("basic_code", ""))
            item = ServiceItem.objects.filter(basic_code=code).first() or ServiceItem()
            row.before = services.item_state(item) if item.pk else {}
            theme_codes = data.pop("themes", [])
            if not isinstance(theme_codes, list):
                self.errors.add(row.loc("themes"), _("themes 应为主题编码列表"))
                theme_codes = []
            themes = []
            for theme_code in theme_codes:
                theme = self.theme_by_code.get(str(theme_code))
                if theme is None:
                    self.errors.add(
                        row.loc("themes"),
                        _("服务主题 %(c)s 不存在:请在 themes 中添加") % {"c": theme_code},
                    )
                else:
                    themes.append(theme)
            row.extra["themes"] = themes
            self.errors.merge(row.loc, services.prepare_item(item, data))
            if code in seen:
                self.errors.add(
                    row.loc("basic_code"), _("基本编码 %(c)s 在文件中重复") % {"c": code}
                )
            seen.add(code)
            row.instance = item
            self.item_by_code[code] = item

    def check_listings(self) -> None:
        for row in self.parsed.listings:
            data = dict(row.data)
            item = row.parent.instance if isinstance(row.parent, Row) else None
            if item is None:
                code = str(row.extra.get("basic_code", ""))
                item = self.item(code)
                if item is None:
                    self.errors.add(
                        row.loc("basic_code"),
                        _("基本编码 %(c)s 的事项不存在:请在 items 中添加") % {"c": code},
                    )
                    continue
            department = self.department(data.get("department", ""), row.loc, "department")
            co_departments = []
            co_codes = data.pop("co_departments", [])
            if not isinstance(co_codes, list):
                self.errors.add(
                    row.loc("co_departments"), _("共同实施部门应为统一社会信用代码列表")
                )
                co_codes = []
            for co_code in co_codes:
                co = self.department(co_code, row.loc, "co_departments")
                if co is not None:
                    co_departments.append(co)
            if department is None:
                continue
            data["item"], data["department"] = item, department
            level = data.get("level")
            code = data.get("implementation_code") or (
                f"{department.credit_code}{level}{item.basic_code}"
            )
            listing = (
                ServiceListing.objects.filter(implementation_code=code)
                .select_related("item", "department")
                .first()
            )
            creating = listing is None
            listing = listing or ServiceListing()
            status = data.pop("status", None)
            if creating:
                if status is not None:
                    data["status"] = status
                row.before = {}
            else:
                row.before = services.listing_state(listing, with_materials=True)
                if status is not None:
                    problem = services.status_change_error(listing.status, str(status))
                    if problem:
                        self.errors.add(row.loc("status"), problem)
                    elif str(status) != listing.status:
                        row.extra["to_status"] = str(status)
            self.errors.merge(row.loc, services.prepare_listing(listing, data, creating=creating))
            row.instance = listing
            row.extra["co_departments"] = co_departments
            row.extra["materials"] = []
            if listing.implementation_code in self.listing_by_code:
                self.errors.add(
                    row.loc("implementation_code"),
                    _("实施编码 %(c)s 在文件中重复:同一部门同一层级只能有一份实施清单")
                    % {"c": listing.implementation_code},
                )
            self.listing_by_code[listing.implementation_code] = row

    def check_materials(self) -> None:
        names: dict[int, set[str]] = {}
        for row in self.parsed.materials:
            parent = row.parent
            if not isinstance(parent, Row):
                parent = self.listing_by_code.get(str(parent))
            if parent is None:
                self.errors.add(
                    row.loc("implementation_code"),
                    _("实施编码 %(c)s 的实施清单不存在:请在 listings 中添加") % {"c": row.parent},
                )
                continue
            if parent.instance is None:
                continue  # its listing already has an error
            for key, messages in services.material_errors([row.data]).items():
                for message in messages:
                    self.errors.add(row.loc(key.removeprefix("materials[0].")), message)
            name = str(row.data.get("name", "")).strip()
            seen = names.setdefault(id(parent), set())
            if name in seen:
                self.errors.add(
                    row.loc("name"), _("材料名称“%(n)s”重复,请合并或改名") % {"n": name}
                )
            seen.add(name)
            parent.extra["materials"].append(row.data)

    def check_power_items(self) -> None:
        seen: set[str] = set()
        for row in self.parsed.power_items:
            data = dict(row.data)
            code = str(data.get("code", ""))
            power = PowerItem.objects.filter(code=code).first() or PowerItem()
            row.before = services.power_state(power) if power.pk else {}
            data["department"] = self.department(data.get("department", ""), row.loc, "department")
            item_codes = data.pop("items", [])
            items = []
            for item_code in item_codes if isinstance(item_codes, list) else []:
                item = self.item(str(item_code))
                if item is None:
                    self.errors.add(
                        row.loc("items"),
                        _("基本编码 %(c)s 的事项不存在:请在 items 中添加") % {"c": item_code},
                    )
                else:
                    items.append(item)
            if not isinstance(item_codes, list):
                self.errors.add(row.loc("items"), _("items 应为基本编码列表"))
            if data["department"] is None:
                continue
            self.errors.merge(row.loc, services.prepare_power_item(power, data))
            if code in seen:
                self.errors.add(row.loc("code"), _("权力编码 %(c)s 在文件中重复") % {"c": code})
            seen.add(code)
            row.instance = power
            row.extra["items"] = items


def _normalized_materials(materials: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for data in materials:
        material = MaterialRequirement(**{f: data[f] for f in MATERIAL_FIELDS_SET & set(data)})
        material.full_clean(
            exclude=["listing", "code"], validate_unique=False, validate_constraints=False
        )
        result.append({f: getattr(material, f) for f in services.MATERIAL_FIELDS})
    return result


MATERIAL_FIELDS_SET = set(services.MATERIAL_FIELDS)


def _write(actor: Any, plan: _Plan) -> ImportReport:
    report = ImportReport()

    def tally(kind: str, row: Row, changed: bool) -> None:
        if not row.before:
            report.created[kind] += 1
        elif changed:
            report.updated[kind] += 1
        else:
            report.unchanged[kind] += 1

    for row in plan.parsed.themes:
        theme = row.instance
        changed = not row.before or services.theme_state(theme) != row.before
        if changed:
            services.save_theme(actor, theme, row.before)
        tally("themes", row, changed)
    for row in plan.parsed.items:
        item = row.instance
        intended = {**snapshot(item, services.ITEM_FIELDS)}
        intended["themes"] = sorted(t.code for t in row.extra["themes"])
        changed = not row.before or intended != row.before
        if changed:
            services.save_item(actor, item, row.before, row.extra["themes"])
        tally("items", row, changed)
    for row in plan.parsed.listings:
        listing = row.instance
        materials = row.extra["materials"]
        intended = snapshot(listing, (*services.LISTING_FIELDS, "item", "department"))
        intended["co_departments"] = sorted(d.credit_code for d in row.extra["co_departments"])
        intended["materials"] = _normalized_materials(materials)
        changed = not row.before or intended != row.before
        if changed:
            services.save_listing(
                actor,
                listing,
                row.before,
                co_departments=row.extra["co_departments"],
                materials=materials,
            )
        if "to_status" in row.extra:
            before = {"status": listing.status}
            services.apply_status(actor, listing, row.extra["to_status"], IMPORT_REASON)
            record(
                actor,
                "catalog.listing.status",
                listing,
                before=before,
                after={"status": listing.status, "reason": IMPORT_REASON},
                department_id=listing.department_id,
            )
            indexing.reindex_listing(listing)
            report.status_changes += 1
            changed = True
        tally("listings", row, changed)
    for row in plan.parsed.power_items:
        power = row.instance
        intended = snapshot(power, (*services.POWER_FIELDS, "department"))
        intended["items"] = sorted(i.basic_code for i in row.extra["items"])
        changed = not row.before or intended != row.before
        if changed:
            services.save_power_item(actor, power, row.before, row.extra["items"])
        tally("power_items", row, changed)
    return report


def _import(parsed: Parsed, errors: _Errors, actor: Any) -> ImportReport:
    require_catalog_manager(actor)
    with transaction.atomic():
        plan = _Plan(parsed, errors)
        plan.check_themes()
        plan.check_items()
        plan.check_listings()
        plan.check_materials()
        plan.check_power_items()
        if errors:
            raise CatalogImportError(errors)
        report = _write(actor, plan)
        record(
            actor,
            "catalog.import",
            None,
            object_type="catalog.catalog",
            object_id="catalog",
            after=report.as_dict(),
        )
    return report


def import_catalog(data: dict, actor: Any = None) -> ImportReport:
    """Load a `yiwang-catalog/1` JSON document; raises `CatalogImportError` listing every
    row error, in which case nothing is written."""
    errors = _Errors()
    parsed = parse_json(json.loads(json.dumps(data)), errors)
    return _import(parsed, errors, actor)


def read_csv_tables(source: str | Path | bytes | BinaryIO) -> dict[str, str]:
    """The tables of a CSV export: a zip (path, bytes or file) or a directory of .csv files."""
    tables: dict[str, str] = {}
    if isinstance(source, str | Path) and Path(source).is_dir():
        for name in CSV_FILES:
            path = Path(source) / f"{name}.csv"
            if path.exists():
                tables[name] = path.read_text(encoding="utf-8-sig")
        return tables
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                stem = Path(info.filename).name.removesuffix(".csv")
                if stem in CSV_FILES and info.filename.endswith(".csv"):
                    tables[stem] = archive.read(info).decode("utf-8-sig")
    except zipfile.BadZipFile as exc:
        raise CatalogImportError({"file": [_("文件不是有效的 zip 压缩包")]}) from exc
    except UnicodeDecodeError as exc:
        raise CatalogImportError({"file": [_("CSV 文件应为 UTF-8 编码")]}) from exc
    return tables


def import_catalog_csv(source: str | Path | bytes | BinaryIO, actor: Any = None) -> ImportReport:
    """Load the CSV tables (zip or directory); same rules and errors as `import_catalog`."""
    errors = _Errors()
    parsed = parse_csv(read_csv_tables(source), errors)
    return _import(parsed, errors, actor)


# ---------------------------------------------------------------- export


def _theme_dict(theme: Theme) -> dict[str, Any]:
    return {k: getattr(theme, k) for k in THEME_KEYS}


def _listing_dict(listing: ServiceListing) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in LISTING_KEYS:
        if key == "department":
            data[key] = listing.department.credit_code
        elif key == "co_departments":
            data[key] = sorted(d.credit_code for d in listing.co_departments.all())
        elif key == "fee":
            data[key] = {
                "charged": listing.fee_charged,
                "basis": listing.fee_basis,
                "standard": listing.fee_standard,
            }
        else:
            data[key] = getattr(listing, key)
    data["materials"] = [
        {k: getattr(m, k) for k in MATERIAL_KEYS}
        for m in sorted(listing.materials.all(), key=lambda m: (m.sort_order, m.id))
    ]
    return data


def export_catalog() -> dict[str, Any]:
    """The whole catalog as a `yiwang-catalog/1` document, in a stable order."""
    listings = ServiceListing.objects.select_related("department").prefetch_related(
        "co_departments", "materials"
    )
    by_item: dict[int, list[ServiceListing]] = {}
    for listing in listings.order_by("implementation_code"):
        by_item.setdefault(listing.item_id, []).append(listing)
    items = []
    for item in ServiceItem.objects.prefetch_related("themes").order_by("basic_code"):
        data = {k: getattr(item, k) for k in ITEM_KEYS if k != "themes"}
        data["themes"] = sorted(t.code for t in item.themes.all())
        data["listings"] = [_listing_dict(x) for x in by_item.get(item.id, [])]
        items.append(data)
    power_items = []
    for power in PowerItem.objects.select_related("department").prefetch_related("items"):
        data = {k: getattr(power, k) for k in POWER_KEYS if k not in {"department", "items"}}
        data["department"] = power.department.credit_code
        data["items"] = sorted(i.basic_code for i in power.items.all())
        power_items.append({k: data[k] for k in POWER_KEYS})
    return {
        "format": FORMAT,
        "themes": [_theme_dict(t) for t in Theme.objects.order_by("sort_order", "code")],
        "items": items,
        "power_items": power_items,
    }


def _csv_text(value: Any, column: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if column == "faq":
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if value is None else str(value)


def export_catalog_tables() -> dict[str, list[dict[str, Any]]]:
    """The export as flat rows per CSV table (column names per docs/catalog-format.md)."""
    doc = export_catalog()
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in CSV_FILES}
    tables["themes"] = doc["themes"]
    for item in doc["items"]:
        tables["items"].append({k: item[k] for k in ITEM_KEYS})
        for listing in item["listings"]:
            row = {k: v for k, v in listing.items() if k not in {"fee", "materials"}}
            row["basic_code"] = item["basic_code"]
            row.update({f"fee_{k}": listing["fee"][k] for k in FEE_KEYS})
            tables["listings"].append(row)
            code = listing["implementation_code"]
            for material in listing["materials"]:
                tables["materials"].append({"implementation_code": code, **material})
    tables["power_items"] = doc["power_items"]
    return tables


def export_catalog_csv() -> bytes:
    """A zip of the five CSV tables (UTF-8 with BOM so spreadsheets read Chinese)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in export_catalog_tables().items():
            text = io.StringIO()
            columns = CSV_COLUMNS[name]
            writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({c: _csv_text(row.get(c), c) for c in columns})
            info = zipfile.ZipInfo(f"{name}.csv", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, "\ufeff" + text.getvalue())
    return buffer.getvalue()
