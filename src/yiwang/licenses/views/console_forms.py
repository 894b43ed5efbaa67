"""Console forms for licences: shapes only; the rules (and their messages) live in services.

A service's LicenseError names fields the way the service sees them (`fields.address`);
`attach_errors` puts each message next to the form field that shows it.
"""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.common.forms import NamedErrorsForm
from yiwang.identity.models import Department
from yiwang.identity.validators import validate_credit_code, validate_id_number
from yiwang.licenses.models import HolderCodeType, License, LicenseType
from yiwang.licenses.services import FIELD_TYPES

FIELD_PREFIX = "field_"
TYPE_FIELDS_EXAMPLE = (
    '[\n  {"name": "shop_name", "label": "经营场所名称", "type": "string", "required": true},\n'
    '  {"name": "approved_on", "label": "核准日期", "type": "date"}\n]'
)


def attach_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None):
    """Each service message next to the field it names, otherwise at the top of the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, messages in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        if name.startswith("fields."):
            name = FIELD_PREFIX + name.removeprefix("fields.")
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "class": "w-11"}, format="%Y-%m-%d")


def add_type_fields(form: forms.Form, license_type: LicenseType) -> None:
    """One input per 照面信息项 of the type; `type: date` gets a date picker."""
    for spec in license_type.fields:
        label = spec.get("label") or spec["name"]
        is_date = spec.get("type") == "date"
        widget = _date_widget() if is_date else forms.TextInput(attrs={"class": "w-20"})
        form.fields[FIELD_PREFIX + spec["name"]] = forms.CharField(
            label=label,
            required=bool(spec.get("required")),
            max_length=500,
            widget=widget,
            help_text=_("格式 YYYY-MM-DD") if is_date else "",
            error_messages={"required": _("请填写“%(label)s”") % {"label": label}},
        )


def type_field_values(form: forms.Form) -> dict[str, str]:
    return {
        name.removeprefix(FIELD_PREFIX): value
        for name, value in form.cleaned_data.items()
        if name.startswith(FIELD_PREFIX)
    }


class ChooseTypeForm(NamedErrorsForm):
    """Step one of issuing: which kind of licence (GET, so the choice is bookmarkable)."""

    type = forms.ChoiceField(label=gettext_lazy("证照类型"))

    def __init__(self, *args: Any, types: list[LicenseType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("请选择")), *((t.code, t.name) for t in types)]


class IssueForm(NamedErrorsForm):
    issuer = forms.ModelChoiceField(
        label=gettext_lazy("颁发部门"), queryset=Department.objects.none(), empty_label=None
    )
    holder_name = forms.CharField(label=gettext_lazy("持证主体名称"), max_length=200)
    holder_code = forms.CharField(
        label=gettext_lazy("持证主体代码"),
        max_length=18,
        widget=forms.TextInput(attrs={"class": "w-20 mono", "autocomplete": "off"}),
    )
    valid_from = forms.DateField(
        label=gettext_lazy("有效期起"),
        required=False,
        widget=_date_widget(),
        help_text=gettext_lazy("留空为今天"),
        error_messages={"invalid": gettext_lazy("“有效期起”应为日期,格式 YYYY-MM-DD")},
    )
    valid_until = forms.DateField(
        label=gettext_lazy("有效期止"),
        required=False,
        widget=_date_widget(),
        error_messages={"invalid": gettext_lazy("“有效期止”应为日期,格式 YYYY-MM-DD")},
    )

    def __init__(
        self, *args: Any, license_type: LicenseType, departments: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.holder_type = license_type.holder_type
        self.fields["issuer"].queryset = departments
        code = self.fields["holder_code"]
        if license_type.holder_type == HolderCodeType.CREDIT_CODE:
            code.label = _("统一社会信用代码")
            code.help_text = _("18 位,持证单位的统一社会信用代码")
        else:
            code.label = _("公民身份号码")
            code.help_text = _("18 位身份证号码,最后一位可能是 X")
        code.error_messages["required"] = _("请填写%(label)s") % {"label": code.label}
        self.fields["valid_until"].help_text = (
            _("留空则按证照目录:自有效期起 %(n)s 年") % {"n": license_type.validity_years}
            if license_type.validity_years
            else _("留空为长期有效")
        )
        add_type_fields(self, license_type)
        # Dates last: they are the least often changed.
        self.order_fields([n for n in self.fields if n not in ("valid_from", "valid_until")])

    def clean_holder_code(self) -> str:
        """Checked here too, so a wrong check character shows with the other mistakes."""
        code = self.cleaned_data["holder_code"]
        if self.holder_type == HolderCodeType.CREDIT_CODE:
            return validate_credit_code(code)
        return validate_id_number(code)


class ReasonForm(NamedErrorsForm):
    """暂扣 / 恢复 / 吊销注销: one form per action allowed from the current status."""

    reason = forms.CharField(
        label=gettext_lazy("原因和依据"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("会显示给核验方和持证人,例如“依据《食品经营许可管理办法》第五十条”"),
    )

    def __init__(self, *args: Any, action: str, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action, self.label = action, label
        self.fields["reason"].error_messages["required"] = _("请写明%(action)s的原因和依据") % {
            "action": label
        }


class AmendForm(NamedErrorsForm):
    """加注/变更: every current value prefilled; the service makes the next version."""

    holder_name = forms.CharField(label=gettext_lazy("持证主体名称"), max_length=200)
    valid_until = forms.DateField(
        label=gettext_lazy("有效期止"),
        required=False,
        widget=_date_widget(),
        help_text=gettext_lazy("留空保持不变"),
        error_messages={"invalid": gettext_lazy("“有效期止”应为日期,格式 YYYY-MM-DD")},
    )
    reason = forms.CharField(
        label=gettext_lazy("变更事由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("例如“经营场所名称变更,依据变更登记申请”"),
    )

    def __init__(self, *args: Any, license: License, fields: dict[str, str], **kwargs: Any):
        initial = {
            "holder_name": license.holder_name,
            "valid_until": license.valid_until,
            **{FIELD_PREFIX + k: v for k, v in fields.items()},
        }
        super().__init__(*args, initial=initial, **kwargs)
        add_type_fields(self, license.license_type)
        self.order_fields(["holder_name", *(n for n in self.fields if n.startswith(FIELD_PREFIX))])


class LicenseTypeForm(NamedErrorsForm):
    """证照目录 entry; `fields` is a JSON list checked again by the service."""

    code = forms.CharField(
        label=gettext_lazy("证照类型代码"),
        max_length=21,
        widget=forms.TextInput(attrs={"class": "w-20 mono"}),
        help_text=gettext_lazy("定义机构统一社会信用代码(18位)+ 3 位顺序码,共 21 位"),
    )
    name = forms.CharField(label=gettext_lazy("证照名称"), max_length=100)
    defining_authority = forms.CharField(label=gettext_lazy("定义机构"), max_length=200)
    defining_authority_code = forms.CharField(
        label=gettext_lazy("定义机构代码"),
        max_length=18,
        widget=forms.TextInput(attrs={"class": "w-20 mono"}),
        help_text=gettext_lazy("定义机构的统一社会信用代码,18 位"),
    )
    holder_type = forms.ChoiceField(
        label=gettext_lazy("持证主体代码类型"),
        choices=HolderCodeType.choices,
        widget=forms.RadioSelect,
    )
    validity_years = forms.IntegerField(
        label=gettext_lazy("有效期(年)"),
        required=False,
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs={"class": "w-4"}),
        help_text=gettext_lazy("留空表示长期有效"),
        error_messages={
            "invalid": gettext_lazy("“有效期(年)”应为 1 至 100 的整数"),
            "min_value": gettext_lazy("“有效期(年)”应为 1 至 100 的整数"),
            "max_value": gettext_lazy("“有效期(年)”应为 1 至 100 的整数"),
        },
    )
    issuing_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("颁发部门"),
        required=False,
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "id"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选表示任何部门都可以颁发"),
    )
    type_fields = forms.CharField(
        label=gettext_lazy("照面信息项(JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "JSON 列表,每项含 name(英文标识符)、label(中文名称)、type(string、date 或 "
            'number),可加 "required": true。持证主体、证照编号已内置,不用列出。写法见下方示例'
        ),
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("排序"),
        required=False,
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs={"class": "w-4"}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("启用"),
        required=False,
        initial=True,
        help_text=gettext_lazy("停用后不能再签发该类证照,已签发的证照不受影响"),
    )

    example = TYPE_FIELDS_EXAMPLE

    def clean_type_fields(self) -> list:
        text = (self.cleaned_data.get("type_fields") or "").strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("“照面信息项”不是有效的 JSON(第 %(line)s 行第 %(col)s 列),请检查引号、逗号和括号")
                % {"line": exc.lineno, "col": exc.colno}
            ) from exc
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValidationError(
                _("“照面信息项”应为 JSON 列表,以 [ 开头,每项是 {…} 对象,见下方示例")
            )
        for i, spec in enumerate(value):
            if spec.get("type", "string") not in FIELD_TYPES:
                raise ValidationError(
                    _("第 %(n)s 项的 type 应为 %(types)s")
                    % {"n": i + 1, "types": "、".join(FIELD_TYPES)}
                )
        return value

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["fields"] = data.pop("type_fields", [])
        data["sort_order"] = data.get("sort_order") or 0
        data["issuing_departments"] = list(data.get("issuing_departments") or [])
        return data


def type_initial(license_type: LicenseType) -> dict[str, Any]:
    return {
        "code": license_type.code,
        "name": license_type.name,
        "defining_authority": license_type.defining_authority,
        "defining_authority_code": license_type.defining_authority_code,
        "holder_type": license_type.holder_type,
        "validity_years": license_type.validity_years,
        "issuing_departments": list(license_type.issuing_departments.all()),
        "type_fields": json.dumps(license_type.fields, ensure_ascii=False, indent=2),
        "sort_order": license_type.sort_order,
        "is_active": license_type.is_active,
    }


class IssuanceRuleForm(NamedErrorsForm):
    """The licence a granted case of a listing produces (setup page of the listing)."""

    license_type = forms.ModelChoiceField(
        label=gettext_lazy("办结时签发的证照"),
        required=False,
        queryset=LicenseType.objects.filter(is_active=True),
        empty_label=gettext_lazy("不签发证照"),
        help_text=gettext_lazy("办件“准予许可”办结时自动签发,加盖本部门电子印章"),
    )
    field_map = forms.CharField(
        label=gettext_lazy("字段映射(JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
        help_text=gettext_lazy(
            '证照字段 → 申请表字段,例如 {"shop_name": "shop_name", "scope": "business_scope"};'
            "持证主体和代码自动取申请人的实名信息"
        ),
    )

    def clean_field_map(self) -> dict[str, str]:
        text = (self.cleaned_data.get("field_map") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("“字段映射”不是有效的 JSON(第 %(line)s 行第 %(col)s 列),请检查引号、逗号和括号")
                % {"line": exc.lineno, "col": exc.colno}
            ) from exc
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValidationError(
                _('“字段映射”应为 JSON 对象,键和值都是字段名,例如 {"shop_name": "shop_name"}')
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("field_map") and not data.get("license_type"):
            self.add_error("license_type", _("填写了字段映射,请选择要签发的证照类型"))
        return data
