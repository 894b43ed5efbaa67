"""Admin for accounts and departments: personal data masked, departments changed via services."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.audit.admin_mixins import AuditedAdminMixin
from yiwang.audit.services import snapshot
from yiwang.crypto.fields import blind_index, mask_id_number, mask_phone
from yiwang.identity import services
from yiwang.identity.models import Department, RealNameVerification, StaffRole, User
from yiwang.identity.validators import validate_id_number, validate_phone

AUDITED_USER_FIELDS = [
    "username",
    "kind",
    "real_name",
    "email",
    "company_name",
    "credit_code",
    "credit_code_override",
    "locked_until",
    "is_active",
    "is_staff",
    "is_superuser",
]


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0
    autocomplete_fields = ["user", "department"]
    readonly_fields = ["granted_at"]


class ReadOnlyStaffRoleInline(StaffRoleInline):
    """Roles are granted on the user's page, where the change is audited."""

    readonly_fields = ["user", "role", "granted_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    audit_action = "identity.user"
    list_display = ["username", "real_name", "kind", "masked_phone", "masked_id_number", "verified"]
    list_filter = ["kind", "is_staff", "is_superuser", "is_active"]
    search_fields = ["username", "real_name", "company_name", "credit_code"]
    readonly_fields = [
        "masked_phone",
        "masked_id_number",
        "real_name_verified_at",
        "phone_verified_at",
        "failed_logins",
        "last_login",
        "date_joined",
    ]
    fieldsets = [
        (None, {"fields": ["username", "password", "kind", "real_name", "email"]}),
        (
            _("个人信息(脱敏)"),
            {"fields": ["masked_phone", "masked_id_number", "real_name_verified_at"]},
        ),
        (_("法人"), {"fields": ["company_name", "credit_code", "credit_code_override"]}),
        (_("登录"), {"fields": ["failed_logins", "locked_until", "last_login", "date_joined"]}),
        (_("权限"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    inlines = [StaffRoleInline]

    def get_inlines(self, request, obj=None):
        # Only staff accounts hold roles (identity.services.grant_role says the same).
        return self.inlines if obj is not None and obj.kind == User.Kind.STAFF else []

    def audit_state(self, obj: User) -> dict:
        roles = sorted(f"{r.department_id}:{r.role}" for r in obj.staff_roles.all())
        return {**snapshot(obj, AUDITED_USER_FIELDS), "staff_roles": roles}

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("居民身份证号码"))
    def masked_id_number(self, obj: User) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("已实名"), boolean=True)
    def verified(self, obj: User) -> bool:
        return obj.is_real_name_verified

    def get_search_results(self, request, queryset, search_term):
        """An exact phone or ID number is found through its blind index, never by decrypting."""
        results, distinct = super().get_search_results(request, queryset, search_term)
        for validate, purpose, column in (
            (validate_phone, "phone", "phone_index"),
            (validate_id_number, "id_number", "id_number_index"),
        ):
            try:
                value = validate(search_term)
            except Exception:  # noqa: S112 - not this kind of number
                continue
            results |= queryset.filter(**{column: blind_index(value, purpose)})
        return results, distinct


class DepartmentForm(forms.ModelForm):
    website = forms.URLField(label=_("网站"), required=False, assume_scheme="https")

    class Meta:
        model = Department
        fields = sorted(services.DEPARTMENT_FIELDS | {"credit_code_override"})

    def clean(self):
        data = super().clean()
        try:
            # Admin users are staff, so a written reason may keep a failing check digit.
            data["credit_code"], data["credit_code_override"] = services.check_credit_code(
                self.request_user, data.get("credit_code", ""), data.get("credit_code_override", "")
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "parent", "level", "credit_code", "is_active", "sort_order"]
    list_filter = ["level", "nature", "is_active"]
    search_fields = ["name", "short_name", "credit_code", "region_code"]
    autocomplete_fields = ["parent", "lead"]
    inlines = [ReadOnlyStaffRoleInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A department is deactivated (is_active), never deleted: cases and audit refer to it.
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        """Through the services, so admin edits are validated and audited like any other."""
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in form.fields
        }
        if change:
            saved = services.update_department(request.user, obj, **fields)
        else:
            saved = services.create_department(request.user, **form.cleaned_data)
        obj.pk = saved.pk


@admin.register(RealNameVerification)
class RealNameVerificationAdmin(admin.ModelAdmin):
    list_display = ["user", "real_name", "backend", "passed", "reference", "checked_at"]
    list_filter = ["backend", "passed"]
    readonly_fields = [f.name for f in RealNameVerification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
