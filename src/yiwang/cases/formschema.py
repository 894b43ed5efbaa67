"""Application forms defined per listing as JSON Schema (Draft 2020-12) with UI hints.

A listing's form is data an administrator maintains, not code, so every schema
passes `check_schema` before it is stored and every submission passes
`validate_form`. We accept a deliberately small subset (flat objects of
strings, numbers, booleans and choices) because that is what we can render
accessibly, explain in Chinese when it fails, and prefill from verified data.
See docs/application-forms.md.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import extend

SCALAR_TYPES = ("string", "integer", "number", "boolean")
WIDGETS = ("text", "textarea", "select", "radio", "checkbox", "date", "number", "email", "tel")
# Which widgets make sense for which property type.
WIDGETS_FOR_TYPE = {
    "string": {"text", "textarea", "select", "radio", "date", "email", "tel"},
    "integer": {"number", "select", "radio", "text"},
    "number": {"number", "select", "radio", "text"},
    "boolean": {"checkbox", "radio", "select"},
}
# Prefill sources and the property type each one yields.
PREFILL_SOURCES = {
    "real_name": "string",
    "id_number": "string",
    "phone": "string",
    "company_name": "string",
    "credit_code": "string",
    "birth_date": "string",
    "age": "integer",
}
# Identity facts an applicant may never change once verified (unless x-locked: false).
LOCKED_BY_DEFAULT = frozenset({"real_name", "id_number", "credit_code", "birth_date", "age"})
AUTOCOMPLETE = {
    "real_name": "name",
    "phone": "tel",
    "birth_date": "bday",
    "company_name": "organization",
}
ROOT_KEYWORDS = {
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "x-order",
}
PROPERTY_KEYWORDS = {
    "type",
    "title",
    "description",
    "default",
    "enum",
    "const",
    "format",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "x-widget",
    "x-prefill",
    "x-locked",
    "x-enum-labels",
    "x-error",
    "x-placeholder",
}
STRING_FORMATS = ("date", "email")
# Property names become POST keys and HTML ids, so keep them plain.
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
EMAIL_RE = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
TRUE_STRINGS = {"on", "true", "1", "yes"}
FALSE_STRINGS = {"off", "false", "0", "no"}
NON_FIELD = "__all__"


# ---------- schema checking ----------


def check_schema(schema: dict) -> list[str]:
    """Problems that would make a listing's form unusable; empty when it can be stored.

    Run before saving an administrator's schema so that citizens never meet a form
    we cannot render, validate or explain.
    """
    if not isinstance(schema, Mapping):
        return ["表单定义必须是一个 JSON 对象"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "根"
        return [f"表单定义不是有效的 JSON Schema(位置:{where}):{exc.message}"]
    problems: list[str] = []
    unknown = sorted(k for k in schema if k not in ROOT_KEYWORDS)
    if unknown:
        problems.append(f"表单定义根上不支持这些关键字:{'、'.join(unknown)}")
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, Mapping) or not properties:
        return [*problems, "表单定义的根必须是 type: object,并在 properties 中列出字段"]
    if schema.get("additionalProperties", False) is not False:
        problems.append("additionalProperties 只能为 false:表单不接受未定义的字段")
    for name in schema.get("required", []):
        if name not in properties:
            problems.append(f"required 中的“{name}”不是已定义的字段")
    order = schema.get("x-order")
    if order is not None:
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            problems.append("x-order 必须是字段名列表")
        else:
            for name in order:
                if name not in properties:
                    problems.append(f"x-order 中的“{name}”不是已定义的字段")
            if len(set(order)) != len(order):
                problems.append("x-order 中有重复的字段名")
    for name, prop in properties.items():
        problems.extend(_check_property(name, prop))
    return problems


def _check_property(name: str, prop: Any) -> list[str]:
    if not NAME_RE.fullmatch(name):
        return [f"字段名“{name}”只能用小写英文字母、数字和下划线,并以字母开头(最多 64 个字符)"]
    if not isinstance(prop, Mapping):
        return [f"字段“{name}”的定义必须是一个对象"]
    problems: list[str] = []
    kind = prop.get("type")
    if kind == "object" or kind == "array" or "properties" in prop or "items" in prop:
        return [f"字段“{name}”:不支持嵌套的对象或列表,请把字段平铺在根对象下"]
    if kind not in SCALAR_TYPES:
        return [f"字段“{name}”的 type 必须是 string、integer、number 或 boolean 之一"]
    unknown = sorted(k for k in prop if k not in PROPERTY_KEYWORDS)
    if unknown:
        problems.append(f"字段“{name}”使用了不支持的关键字:{'、'.join(unknown)}")
    if not isinstance(prop.get("title"), str) or not prop["title"].strip():
        problems.append(f"字段“{name}”缺少 title(在页面上显示的字段名称)")
    fmt = prop.get("format")
    if fmt is not None and (kind != "string" or fmt not in STRING_FORMATS):
        problems.append(f"字段“{name}”的 format 只支持文字字段的 date 或 email")
    if "pattern" in prop:
        try:
            re.compile(prop["pattern"], re.ASCII)
        except re.error as exc:
            problems.append(f"字段“{name}”的 pattern 不是有效的正则表达式:{exc}")
    enum = prop.get("enum")
    for value in [*(enum or []), *([prop["const"]] if "const" in prop else [])]:
        if not _matches_type(value, kind):
            problems.append(f"字段“{name}”的选项 {value!r} 与 type {kind} 不符")
    if enum is not None:
        labels = prop.get("x-enum-labels")
        if labels is not None and (
            not isinstance(labels, list)
            or len(labels) != len(enum)
            or not all(isinstance(x, str) for x in labels)
        ):
            problems.append(f"字段“{name}”的 x-enum-labels 必须是与 enum 等长的文字列表")
    elif "x-enum-labels" in prop:
        problems.append(f"字段“{name}”有 x-enum-labels 但没有 enum")
    widget = prop.get("x-widget")
    if widget is not None:
        if widget not in WIDGETS:
            problems.append(f"字段“{name}”的 x-widget“{widget}”不存在,可用:{'、'.join(WIDGETS)}")
        elif widget not in WIDGETS_FOR_TYPE[kind]:
            problems.append(f"字段“{name}”是 {kind} 类型,不能使用 x-widget“{widget}”")
        elif widget in {"select", "radio"} and enum is None and kind != "boolean":
            problems.append(f"字段“{name}”使用 {widget} 时必须用 enum 列出选项")
    source = prop.get("x-prefill")
    if source is not None:
        if source not in PREFILL_SOURCES:
            problems.append(
                f"字段“{name}”的 x-prefill“{source}”不存在,可用:{'、'.join(PREFILL_SOURCES)}"
            )
        elif PREFILL_SOURCES[source] == "integer" and kind not in {"integer", "number"}:
            problems.append(f"字段“{name}”从“{source}”带入数字,type 必须是 integer 或 number")
        elif PREFILL_SOURCES[source] == "string" and kind != "string":
            problems.append(f"字段“{name}”从“{source}”带入文字,type 必须是 string")
        elif enum is not None:
            problems.append(f"字段“{name}”带入实名信息时不能同时使用 enum")
    elif "x-locked" in prop:
        problems.append(f"字段“{name}”的 x-locked 只对带入实名信息(x-prefill)的字段有效")
    if "x-locked" in prop and not isinstance(prop["x-locked"], bool):
        problems.append(f"字段“{name}”的 x-locked 必须是 true 或 false")
    for key in ("x-error", "x-placeholder"):
        if key in prop and not isinstance(prop[key], str):
            problems.append(f"字段“{name}”的 {key} 必须是文字")
    return problems


def _matches_type(value: object, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, int | float)
    return isinstance(value, str)


# ---------- validation ----------


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not DATE_RE.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(EMAIL_RE.fullmatch(value))


def _ascii_pattern(validator, pattern, instance, schema):
    # ECMA-262 (what JSON Schema means) has ASCII-only \d and \w; Python's re would let
    # "١٣٨…" pass a phone pattern.
    if validator.is_type(instance, "string") and not re.search(pattern, instance, re.ASCII):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date")(_is_date)
FORMAT_CHECKER.checks("email")(_is_email)
FormValidator = extend(Draft202012Validator, {"pattern": _ascii_pattern})

_validators: OrderedDict[str, Any] = OrderedDict()


def _validator(schema: dict) -> Any:
    """A compiled validator per distinct schema; listings reuse theirs on every submission."""
    key = json.dumps(schema, sort_keys=True, ensure_ascii=False, default=str)
    found = _validators.get(key)
    if found is None:
        problems = check_schema(schema)
        if problems:
            raise ValueError("表单定义无效:" + ";".join(problems))
        strict = {**schema, "additionalProperties": False}
        found = FormValidator(strict, format_checker=FORMAT_CHECKER)
        _validators[key] = found
        if len(_validators) > 256:
            _validators.popitem(last=False)
    else:
        _validators.move_to_end(key)
    return found


def _title(schema: dict, name: str) -> str:
    prop = schema["properties"].get(name, {})
    return prop.get("title") or name


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fmt(number: object) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def _message(prop: dict, title: str, error: Any) -> str:
    """One Chinese sentence per failed keyword, naming the field and the way out."""
    kind = error.validator
    value = error.validator_value
    if kind == "type":
        return {
            "integer": f"“{title}”应填写整数,例如 3",
            "number": f"“{title}”应填写数字,例如 3 或 2.5",
            "boolean": f"“{title}”应选择“是”或“否”",
            "string": f"“{title}”应填写文字",
        }.get(value, f"“{title}”的类型不正确,请重新填写")
    if kind == "minLength":
        return f"“{title}”至少需要 {value} 个字,请补充完整"
    if kind == "maxLength":
        return f"“{title}”最多 {value} 个字,请删减后再提交"
    if kind == "minimum":
        return f"“{title}”不能小于 {_fmt(value)},请重新填写"
    if kind == "maximum":
        return f"“{title}”不能大于 {_fmt(value)},请重新填写"
    if kind == "exclusiveMinimum":
        return f"“{title}”应大于 {_fmt(value)},请重新填写"
    if kind == "exclusiveMaximum":
        return f"“{title}”应小于 {_fmt(value)},请重新填写"
    if kind == "pattern":
        return prop.get("x-error") or f"“{title}”格式不正确,请核对后重新填写"
    if kind == "format":
        if prop.get("x-error"):
            return prop["x-error"]
        if value == "date":
            return f"“{title}”不是有效的日期,请按“年-月-日”填写,例如 2024-05-01"
        if value == "email":
            return f"“{title}”不是有效的电子邮箱地址,请核对,例如 name@example.com"
    if kind == "enum":
        return f"“{title}”请从给出的选项中选择一项"
    if kind == "const":
        if value is True:
            return f"请勾选“{title}”后再提交"
        return f"“{title}”的值不正确,请重新填写"
    return f"“{title}”填写不正确,请核对后重新填写"


def validate_form(schema: dict, data: dict) -> dict[str, list[str]]:
    """Errors keyed by property name (`"__all__"` for the form as a whole); empty when valid.

    Never raises on bad data: any input a client can send becomes a message the
    applicant can act on. Blank values (None or whitespace) count as not given, so a
    required field left empty says "请填写" rather than a type error.
    """
    if not isinstance(data, Mapping):
        return {NON_FIELD: ["表单数据格式不正确,请刷新页面后重新填写"]}
    validator = _validator(schema)
    properties = schema["properties"]
    given = {k: v for k, v in data.items() if not _is_blank(v)}
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        bucket = errors.setdefault(key, [])
        if message not in bucket:
            bucket.append(message)

    for name in schema.get("required", []):
        if name not in given:
            prop = properties[name]
            title = _title(schema, name)
            if prop.get("const") is True:
                add(name, f"请勾选“{title}”后再提交")
            elif "enum" in prop or prop.get("type") == "boolean":
                add(name, f"请选择“{title}”")
            else:
                add(name, f"请填写“{title}”")
    for key, value in given.items():
        if isinstance(value, float) and not math.isfinite(value) and key in properties:
            add(key, f"“{_title(schema, key)}”应填写有限的数字,请重新填写")
        if key not in properties:
            shown = str(key)[:40]
            add(NON_FIELD, f"表单中有未定义的字段“{shown}”,请刷新页面后重新填写")
    try:
        found = list(validator.iter_errors(given))
    except Exception:  # a pathological value (e.g. a huge number) must not become a 500
        return {**errors, NON_FIELD: ["表单数据无法校验,请检查填写的内容后重试"]}
    for error in found:
        if not error.path:
            continue  # required / additionalProperties, reported above in Chinese
        name = error.path[0]
        if name not in properties:
            continue
        add(name, _message(properties[name], _title(schema, name), error))
    return errors


# ---------- prefill ----------


def _birth_date(id_number: str) -> datetime.date | None:
    if not isinstance(id_number, str) or not re.fullmatch(r"\d{17}[\dXx]", id_number, re.ASCII):
        return None
    try:
        return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def _age(born: datetime.date, today: datetime.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _sources(user: Any) -> dict[str, Any]:
    """What we know about the applicant *and* have verified, by prefill source name."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    values: dict[str, Any] = {}
    if getattr(user, "real_name_verified_at", None):
        if user.real_name:
            values["real_name"] = user.real_name
        if user.id_number:
            values["id_number"] = user.id_number
            born = _birth_date(user.id_number)
            if born is not None:
                values["birth_date"] = born.isoformat()
                values["age"] = _age(born, timezone.localdate())
        # A company agent's account carries the company it registered with.
        if getattr(user, "kind", "") == "company":
            if user.company_name:
                values["company_name"] = user.company_name
            if user.credit_code:
                values["credit_code"] = user.credit_code
    if getattr(user, "phone_verified_at", None) and user.phone:
        values["phone"] = user.phone
    return values


def prefill(schema: dict, user: Any) -> dict:
    """Initial form values from the applicant's verified data, so nobody retypes them."""
    sources = _sources(user)
    return {
        name: sources[prop["x-prefill"]]
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, Mapping) and prop.get("x-prefill") in sources
    }


def _is_locked(prop: Mapping) -> bool:
    return bool(prop.get("x-locked", prop.get("x-prefill") in LOCKED_BY_DEFAULT))


def locked_fields(schema: dict, user: Any) -> set[str]:
    """Prefilled, verified properties the applicant may not change.

    A locked property without a verified value stays editable: the form still works
    for unverified applicants, and rules that rely on it (秒批) must require
    real-name verification themselves.
    """
    filled = prefill(schema, user)
    return {
        name
        for name, prop in schema.get("properties", {}).items()
        if name in filled and isinstance(prop, Mapping) and _is_locked(prop)
    }


def enforce_locked(schema: dict, data: Mapping, user: Any) -> dict:
    """The submitted data with locked properties reset to their verified values.

    Readonly inputs are only a hint to the browser; this is what makes them binding.
    """
    filled = prefill(schema, user)
    return {**data, **{name: filled[name] for name in locked_fields(schema, user)}}


# ---------- POST parsing ----------


def _boolean_widget(prop: Mapping) -> str:
    return prop.get("x-widget", "checkbox")


def parse_post(schema: dict, post: Mapping) -> dict:
    """Typed values from a posted form; unknown keys (CSRF token, buttons) are ignored.

    Values that do not parse as their type are kept as the raw string so that
    `validate_form` reports the type error naming the field.
    """
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type")
        raw = post.get(name)
        if kind == "boolean" and _boolean_widget(prop) == "checkbox":
            # An unticked checkbox sends nothing: that means "no".
            raw = "" if raw is None else raw
            if not isinstance(raw, str):
                data[name] = raw
            else:
                data[name] = raw.strip().lower() in TRUE_STRINGS
            continue
        if raw is None:
            continue
        if not isinstance(raw, str):
            data[name] = raw
            continue
        value = raw.strip()
        if not value:
            continue
        if kind == "integer":
            data[name] = _to_integer(value)
        elif kind == "number":
            data[name] = _to_number(value)
        elif kind == "boolean":
            lowered = value.lower()
            data[name] = (
                True if lowered in TRUE_STRINGS else False if lowered in FALSE_STRINGS else value
            )
        else:
            data[name] = value
    return data


def _to_integer(value: str) -> int | str:
    ascii_value = unicodedata.normalize("NFKC", value)  # full-width digits from Chinese IMEs
    if INT_RE.fullmatch(ascii_value) and len(ascii_value) <= 30:
        return int(ascii_value)
    return value


def _to_number(value: str) -> int | float | str:
    ascii_value = unicodedata.normalize("NFKC", value)
    if INT_RE.fullmatch(ascii_value) and len(ascii_value) <= 30:
        return int(ascii_value)
    if NUMBER_RE.fullmatch(ascii_value) and len(ascii_value) <= 40:
        return float(ascii_value)
    return value


# ---------- rendering ----------


@dataclass
class Choice:
    value: str
    label: str
    selected: bool
    id: str


@dataclass
class FieldSpec:
    """Everything the form template needs about one property, already decided."""

    name: str
    label: str
    help: str
    widget: str
    required: bool
    value: str
    errors: list[str] = field(default_factory=list)
    readonly: bool = False
    choices: list[Choice] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    placeholder: str = ""

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def help_id(self) -> str:
        return f"{self.id}_helptext"

    @property
    def error_id(self) -> str:
        return f"{self.id}_error"

    @property
    def locked_id(self) -> str:
        return f"{self.id}_locked"

    @property
    def anchor(self) -> str:
        """Where an error-summary link jumps: the first option of a radio group."""
        return f"{self.id}_0" if self.widget == "radio" and not self.readonly else self.id

    @property
    def describedby(self) -> str:
        ids = []
        if self.help:
            ids.append(self.help_id)
        if self.readonly:
            ids.append(self.locked_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def input_type(self) -> str:
        """The <input type> for single-line widgets."""
        return {"date": "date", "email": "email", "tel": "tel", "number": "number"}.get(
            self.widget, "text"
        )

    @property
    def checked(self) -> bool:
        return self.value == "true"

    @property
    def display_value(self) -> str:
        """The value as the applicant reads it (the option's label for choices)."""
        for choice in self.choices:
            if choice.selected:
                return choice.label
        return self.value


class FieldList(list):
    """Fields in display order, plus the errors that belong to no single field."""

    def __init__(self, fields: Iterable[FieldSpec] = (), non_field_errors: Iterable[str] = ()):
        super().__init__(fields)
        self.non_field_errors = list(non_field_errors)

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(f.errors for f in self)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _widget(prop: Mapping) -> str:
    if prop.get("x-widget"):
        return prop["x-widget"]
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= 5 else "select"
    if kind in {"integer", "number"}:
        return "number"
    if prop.get("format") in {"date", "email"}:
        return prop["format"]
    if prop.get("x-prefill") == "phone":
        return "tel"
    if prop.get("maxLength", 0) > 200:
        return "textarea"
    return "text"


def _attrs(prop: Mapping, widget: str) -> dict[str, str]:
    kind = prop.get("type")
    attrs: dict[str, str] = {}
    if "maxLength" in prop and widget in {"text", "textarea", "tel", "email"}:
        attrs["maxlength"] = str(prop["maxLength"])
    if widget == "number":
        if "minimum" in prop:
            attrs["min"] = _fmt(prop["minimum"])
        if "maximum" in prop:
            attrs["max"] = _fmt(prop["maximum"])
        attrs["step"] = "1" if kind == "integer" else "any"
        attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
    elif widget == "tel":
        attrs["inputmode"] = "tel"
    elif widget == "email":
        attrs["inputmode"] = "email"
    elif prop.get("x-prefill") in {"id_number", "credit_code"}:
        attrs["spellcheck"] = "false"
    autocomplete = AUTOCOMPLETE.get(prop.get("x-prefill", ""))
    if autocomplete is None and widget == "email":
        autocomplete = "email"
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    return attrs


def _choices(name: str, prop: Mapping, value: str) -> list[Choice]:
    if "enum" in prop:
        options = prop["enum"]
        labels = prop.get("x-enum-labels") or [_as_text(o) for o in options]
    elif prop.get("type") == "boolean":
        options, labels = [True, False], ["是", "否"]
    else:
        return []
    return [
        Choice(_as_text(option), label, _as_text(option) == value, f"id_{name}_{index}")
        for index, (option, label) in enumerate(zip(options, labels, strict=True))
    ]


def _ordered_names(schema: dict) -> list[str]:
    properties = schema.get("properties", {})
    order = [n for n in schema.get("x-order", []) if n in properties]
    return order + [n for n in properties if n not in order]


def form_fields(
    schema: dict,
    data: Mapping | None,
    errors: Mapping[str, list[str]] | None,
    locked: Iterable[str] = (),
) -> FieldList:
    """The form as a list of FieldSpec in `x-order`, ready for cases/includes/form_fields.html."""
    data = data or {}
    errors = errors or {}
    locked = set(locked)
    required = set(schema.get("required", []))
    fields = FieldList(non_field_errors=errors.get(NON_FIELD, []))
    for name in _ordered_names(schema):
        prop = schema["properties"][name]
        widget = _widget(prop)
        value = _as_text(data.get(name, prop.get("default")))
        readonly = name in locked
        fields.append(
            FieldSpec(
                name=name,
                label=prop.get("title") or name,
                help=prop.get("description", ""),
                widget=widget,
                required=name in required or prop.get("const") is True,
                value=value,
                errors=list(errors.get(name, [])),
                readonly=readonly,
                choices=_choices(name, prop, value) if widget in {"radio", "select"} else [],
                attrs=_attrs(prop, widget),
                placeholder=prop.get("x-placeholder", ""),
            )
        )
    return fields
