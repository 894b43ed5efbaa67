"""Console forms: shape the input; models and services hold the rules."""

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.catalog.codes import HandlingForm, ItemType, ListingStatus, ServiceObject
from yiwang.catalog.models import ServiceListing
from yiwang.common.forms import NamedErrorsForm
from yiwang.identity.models import Department

SCALAR_FIELDS = [
    "name",
    "case_kind",
    "statutory_days",
    "committed_days",
    "limit_explanation",
    "conditions",
    "handling_unit",
    "intermediary_service",
    "quantity_limit",
    "result_name",
    "result_sample",
    "fee_charged",
    "fee_basis",
    "fee_standard",
    "scope",
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
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ListingForm(NamedErrorsForm):
    """The guide elements of one listing (办事指南要素)."""

    process_steps = forms.CharField(
        label=_("办理流程"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个环节,如:申请、受理、审查、决定、送达"),
    )
    service_objects = forms.MultipleChoiceField(
        label=_("服务对象"),
        choices=ServiceObject.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    handling_forms = forms.MultipleChoiceField(
        label=_("办理形式"),
        choices=HandlingForm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    co_departments = forms.ModelMultipleChoiceField(
        label=_("共同实施部门"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    faq = forms.CharField(
        label=_("常见问题"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("每个问题一段:第一行是问题,下面几行是回答,段与段之间空一行"),
    )

    def __init__(self, *args: Any, listing: ServiceListing, **kwargs: Any):
        initial = {f: getattr(listing, f) for f in SCALAR_FIELDS}
        initial.update(
            process_steps="\n".join(listing.process_steps),
            service_objects=listing.service_objects,
            handling_forms=listing.handling_forms,
            co_departments=list(listing.co_departments.all()),
            faq="\n\n".join(f"{q['question']}\n{q['answer']}" for q in listing.faq),
        )
        super().__init__(*args, initial=initial, **kwargs)
        # A co-department deactivated since stays checked, or every save would drop it unseen.
        self.fields["co_departments"].queryset = Department.objects.filter(
            Q(is_active=True) | Q(pk__in=[d.pk for d in initial["co_departments"]])
        )
        model_fields = forms.fields_for_model(ServiceListing, fields=SCALAR_FIELDS)
        declared = dict(self.fields)
        self.fields = {**model_fields, **declared}
        self.fields = {f: self.fields[f] for f in self.field_order_names()}

    @staticmethod
    def field_order_names() -> list[str]:
        order = list(SCALAR_FIELDS)
        order.insert(order.index("conditions") + 1, "process_steps")
        order.insert(order.index("process_steps") + 1, "co_departments")
        order.insert(order.index("scope") + 1, "service_objects")
        order.insert(order.index("service_objects") + 1, "handling_forms")
        order.append("faq")
        return order

    def clean_faq(self) -> list[dict[str, str]]:
        result = []
        for block in (self.cleaned_data.get("faq") or "").replace("\r\n", "\n").split("\n\n"):
            lines = _lines(block)
            if not lines:
                continue
            if len(lines) < 2:
                raise forms.ValidationError(
                    _("问题“%(q)s”缺少回答:在问题下一行写回答") % {"q": lines[0]}
                )
            result.append({"question": lines[0], "answer": "\n".join(lines[1:])})
        return result

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["process_steps"] = _lines(data["process_steps"])
        data["co_departments"] = list(data["co_departments"])
        return data


class MaterialForm(NamedErrorsForm):
    name = forms.CharField(label=_("材料名称"), max_length=200)
    issuer = forms.CharField(label=_("出具机构"), max_length=200, required=False)
    originals = forms.IntegerField(label=_("原件份数"), min_value=0, initial=1)
    copies = forms.IntegerField(label=_("复印件份数"), min_value=0, initial=0)
    required = forms.BooleanField(label=_("必备"), required=False, initial=True)
    notes = forms.CharField(label=_("填报说明"), required=False)
    sample = forms.CharField(label=_("样表"), max_length=300, required=False)
    license_type_code = forms.CharField(
        label=_("可用电子证照(证照类型代码)"), max_length=21, required=False
    )


MaterialFormSet = forms.formset_factory(MaterialForm, extra=2, can_delete=True)


def materials_initial(listing: ServiceListing) -> list[dict[str, Any]]:
    return [
        {f: getattr(m, f) for f in MaterialForm.base_fields}
        for m in listing.materials.order_by("sort_order", "id")
    ]


def materials_data(formset: Any) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class StatusForm(NamedErrorsForm):
    to_status = forms.ChoiceField(label=_("新状态"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("变更原因"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明依据的文件或调整说明,会记入事项历史"),
    )

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (value, ListingStatus(value).label) for value in allowed
        ]


class FilterForm(NamedErrorsForm):
    """Public browse filters; values are checked by `selectors.parse_filters`."""

    q = forms.CharField(label=_("搜索"), required=False)
    department = forms.ChoiceField(label=_("部门"), required=False)
    item_type = forms.ChoiceField(label=_("事项类型"), required=False)
    service_object = forms.ChoiceField(label=_("服务对象"), required=False)
    online = forms.BooleanField(label=_("只看可网上办理"), required=False)

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any):
        super().__init__(*args, **kwargs)
        everything = [("", _("全部"))]
        self.fields["department"].choices = everything + [(str(d.pk), d.name) for d in departments]
        self.fields["item_type"].choices = everything + list(ItemType.choices)
        self.fields["service_object"].choices = everything + list(ServiceObject.choices)
