"""Django admin for cases.

Only a listing's online setup (ListingProcess) is master data that may be edited
here: audited, with the same checks as `services.configure_listing` (the console
page "网上办理设置" is the usual place). Cases, their steps, timeline and files
change only through `cases.services` — engine state, deadlines and the timeline
must move together — so they are read-only here, and personal data stays masked.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit.admin_mixins import AuditedModelAdmin
from yiwang.cases import formschema
from yiwang.cases.models import Case, CaseEvent, CaseFile, ListingProcess, Task
from yiwang.crypto.fields import mask_id_number
from yiwang.workflow.models import ProcessDefinition


class ListingProcessForm(forms.ModelForm):
    class Meta:
        model = ListingProcess
        fields = ["listing", "process_key", "form_schema", "step_days", "is_active"]

    def clean_process_key(self) -> str:
        key = self.cleaned_data["process_key"]
        if not ProcessDefinition.objects.filter(key=key, is_active=True).exists():
            raise forms.ValidationError(
                _("流程“%(key)s”没有启用的版本,请先在工作台“办理流程”中上传") % {"key": key}
            )
        return key

    def clean_form_schema(self) -> dict:
        schema = self.cleaned_data["form_schema"]
        if not isinstance(schema, dict):
            raise forms.ValidationError(_("申请表必须是 JSON 对象"))
        problems = formschema.check_schema(schema)
        if problems:
            raise forms.ValidationError(problems)
        return schema

    def clean_step_days(self) -> dict:
        steps = self.cleaned_data["step_days"] or {}
        if not isinstance(steps, dict):
            raise forms.ValidationError(_('环节时限必须是 JSON 对象,如 {"accept": 2}'))
        bad = [
            k for k, v in steps.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0
        ]
        if bad:
            raise forms.ValidationError(
                _("环节时限必须是非负整数(工作日):%(steps)s") % {"steps": "、".join(bad)}
            )
        return steps

    def clean(self) -> dict:
        data = super().clean()
        listing, steps = data.get("listing"), data.get("step_days")
        limit = listing.statutory_days if listing else 0
        if steps and limit and sum(steps.values()) > limit:
            self.add_error("step_days", _("各环节时限之和超过了法定办结时限"))
        return data


@admin.register(ListingProcess)
class ListingProcessAdmin(AuditedModelAdmin):
    audit_action = "cases.listing_process"
    form = ListingProcessForm
    list_display = ["listing", "process_key", "is_active", "updated_at"]
    list_filter = ["is_active", "process_key"]
    search_fields = ["listing__implementation_code", "listing__name", "listing__item__name"]
    raw_id_fields = ["listing"]
    list_select_related = ["listing"]

    def audit_department_id(self, obj: ListingProcess) -> int | None:
        return obj.listing.department_id


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing only: changes go through cases.services."""

    show_full_result_count = False  # no COUNT(*) over millions of cases on every page

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request) -> dict:
        return {}


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "listing", "department", "applicant_name", "status", "result"]
    list_filter = ["status", "result", "applicant_kind"]
    search_fields = ["number"]
    list_select_related = ["listing", "department"]
    # The form data and the ID number are personal data: masked or left out.
    exclude = ["applicant_id_number", "form_data", "engine_state"]
    readonly_fields = ["masked_id_number"]

    @admin.display(description=gettext_lazy("证件号码"))
    def masked_id_number(self, obj: Case) -> str:
        return mask_id_number(obj.applicant_id_number)


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["case", "title", "role", "department", "assignee", "due_date", "completed_at"]
    list_filter = ["role", "step"]
    search_fields = ["case__number"]
    list_select_related = ["case", "department", "assignee"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "kind", "step", "actor"]
    list_filter = ["kind"]
    search_fields = ["case__number"]
    list_select_related = ["case", "actor"]


@admin.register(CaseFile)
class CaseFileAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "filename", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "is_current"]
    search_fields = ["case__number", "sha256"]
    list_select_related = ["case"]
    # Files are served only through the case pages, which check who may see them.
    exclude = ["file"]

    def get_readonly_fields(self, request, obj: Any = None) -> list[str]:
        return [f.name for f in CaseFile._meta.fields if f.name != "file"]
