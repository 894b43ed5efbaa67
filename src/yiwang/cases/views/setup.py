"""Console page for a listing's online setup (网上办理配置): process, form, step limits.

Platform administrators and the listing department's `admin` role only. Thin:
saving goes through `services.configure_listing`, which checks everything again
and refuses the whole setup if any part is unusable; its errors are shown next to
the field they name. "预览" renders the form from the posted schema without saving.
"""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.cases import formschema, services
from yiwang.cases.permissions import is_department_admin
from yiwang.catalog.models import ServiceListing
from yiwang.identity.permissions import staff_required
from yiwang.licenses import services as license_services
from yiwang.licenses.models import IssuanceRule
from yiwang.licenses.views.console_forms import IssuanceRuleForm, attach_errors
from yiwang.workflow.models import ProcessDefinition


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def parse_json_object(text: str, label: str) -> dict:
    """A JSON object from a textarea, or a ValidationError that names the field and the spot."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("“%(label)s”不是有效的 JSON(第 %(line)s 行第 %(col)s 列),请检查引号、逗号和括号")
            % {"label": label, "line": exc.lineno, "col": exc.colno}
        ) from exc
    if not isinstance(value, dict):
        raise ValidationError(
            _("“%(label)s”必须是 JSON 对象,以 { 开头、以 } 结尾") % {"label": label}
        )
    return value


def process_choices(current: str = "") -> list[tuple[str, str]]:
    """Keys with an active version (named by their newest one), plus the current key if not."""
    newest: dict[str, ProcessDefinition] = {}
    for definition in (
        ProcessDefinition.objects.filter(is_active=True)
        .only("key", "name", "version")
        .order_by("key", "-version")
    ):
        newest.setdefault(definition.key, definition)
    choices = [(key, f"{key} · {d.name}(第 {d.version} 版)") for key, d in sorted(newest.items())]
    if current and current not in newest:
        choices.insert(0, (current, _("%(key)s(没有启用的版本)") % {"key": current}))
    return choices


class SetupForm(forms.Form):
    process_key = forms.ChoiceField(
        label=gettext_lazy("办理流程"),
        help_text=gettext_lazy("新办件使用该流程最新的启用版本;流程在“办理流程”中上传"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "请从列表中选择“办理流程”;列表中没有的流程需先由平台管理员上传并启用"
            )
        },
    )
    form_schema = forms.CharField(
        label=gettext_lazy("申请表(JSON Schema)"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "mono", "spellcheck": "false"}),
        help_text=gettext_lazy("扁平的 JSON 对象,写法见《申请表与材料》文档;可先点“预览”查看效果"),
    )
    step_days = forms.CharField(
        label=gettext_lazy("环节时限(工作日,JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
        help_text=gettext_lazy(
            '按环节 id 填写,如 {"precheck": 1, "accept": 2};未列出的环节以办件时限为准,'
            "各环节之和不能超过法定时限"
        ),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("开放网上申请"),
        required=False,
        help_text=gettext_lazy("取消勾选后申请人不能再在网上提交新申请,已提交的办件照常办理"),
    )

    def __init__(self, *args: Any, current_key: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["process_key"].choices = process_choices(current_key)

    def clean_form_schema(self) -> dict:
        return parse_json_object(self.cleaned_data["form_schema"], _("申请表"))

    def clean_step_days(self) -> dict:
        text = self.cleaned_data.get("step_days", "").strip()
        return parse_json_object(text, _("环节时限")) if text else {}

    def attach(self, exc: ValidationError) -> None:
        for key, errors in exc.message_dict.items():
            for error in errors:
                self.add_error(key if key in self.fields else None, error)


def _listing(request: HttpRequest, listing_id: int) -> ServiceListing:
    listing = get_object_or_404(
        ServiceListing.objects.select_related("department", "item"), pk=listing_id
    )
    if not is_department_admin(request.user, listing.department_id):
        raise PermissionDenied(_("只有平台管理员或该事项实施主体的部门管理员可以设置网上办理"))
    return listing


def _preview(schema: Any) -> Any:
    """The form as applicants will see it, or None when the schema cannot be rendered."""
    if not isinstance(schema, dict) or formschema.check_schema(schema):
        return None
    return formschema.form_fields(schema, {}, {})


def _unbound_setup_form(setup: Any, schema: Any) -> SetupForm:
    return SetupForm(
        prefix="setup",
        current_key=setup.process_key,
        initial={
            "process_key": setup.process_key,
            "form_schema": pretty_json(schema),
            "step_days": pretty_json(setup.step_days or {}),
            "is_active": setup.is_active,
        },
    )


def _rule_form(listing: ServiceListing) -> IssuanceRuleForm:
    rule = IssuanceRule.objects.filter(listing=listing).select_related("license_type").first()
    initial = (
        {"license_type": rule.license_type, "field_map": pretty_json(rule.field_map)}
        if rule
        else {}
    )
    return IssuanceRuleForm(prefix="rule", initial=initial)


def _license_context(listing: ServiceListing, rule_form: IssuanceRuleForm) -> dict[str, Any]:
    """The 办结签发证照 section: its form plus the names it maps between."""
    setup = services.setup_for(listing)
    schema = setup.form_schema or services.DEFAULT_FORM
    return {
        "rule_form": rule_form,
        "form_field_names": [
            (name, prop.get("title", name))
            for name, prop in schema.get("properties", {}).items()
            if isinstance(prop, dict)
        ],
        "license_types": rule_form.fields["license_type"].queryset,
    }


@staff_required
def listing_online(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _listing(request, listing_id)
    setup = services.setup_for(listing)
    status = 200
    if request.method == "POST":
        form = SetupForm(request.POST, prefix="setup", current_key=setup.process_key)
        valid = form.is_valid()
        schema = form.cleaned_data.get("form_schema") if valid else None
        if valid and "preview" not in request.POST:
            data = form.cleaned_data
            try:
                services.configure_listing(
                    request.user,
                    listing,
                    process_key=data["process_key"],
                    form_schema=data["form_schema"],
                    step_days=data["step_days"],
                    is_active=data["is_active"],
                )
            except ValidationError as exc:
                form.attach(exc)
            else:
                messages.success(request, _("网上办理设置已保存"))
                return redirect("console:catalog_listing_online", listing_id=listing.pk)
        if form.errors:
            status = 400
    else:
        schema = setup.form_schema or services.DEFAULT_FORM
        form = _unbound_setup_form(setup, schema)
    return render(
        request,
        "cases/setup/listing_online.html",
        {
            "listing": listing,
            "setup": setup,
            "configured": setup.pk is not None,
            "form": form,
            "preview": _preview(schema),
            **_license_context(listing, _rule_form(listing)),
        },
        status=status,
    )


@staff_required
def listing_license_rule(request: HttpRequest, listing_id: int) -> HttpResponse:
    """办结签发证照: the licence a granted case produces (save_issuance_rule checks again)."""
    listing = _listing(request, listing_id)
    if request.method != "POST":
        return redirect("console:catalog_listing_online", listing_id=listing.pk)
    form = IssuanceRuleForm(request.POST, prefix="rule")
    if form.is_valid():
        data = form.cleaned_data
        try:
            rule = license_services.save_issuance_rule(
                request.user, listing, data["license_type"], data["field_map"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("办结时将签发“%(name)s”") % {"name": rule.license_type.name}
                if rule
                else _("已取消办结签发证照"),
            )
            return redirect("console:catalog_listing_online", listing_id=listing.pk)
    setup = services.setup_for(listing)
    schema = setup.form_schema or services.DEFAULT_FORM
    return render(
        request,
        "cases/setup/listing_online.html",
        {
            "listing": listing,
            "setup": setup,
            "configured": setup.pk is not None,
            "form": _unbound_setup_form(setup, schema),
            "preview": _preview(schema),
            **_license_context(listing, form),
        },
        status=400,
    )
