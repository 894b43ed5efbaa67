"""Django admin for Open311 (docs/open311.md "Client keys").

Keys are issued and revoked only through `interop.services` (audited); the key is shown
once, on the page after issuing, and never again. Service attributes are master data,
audited like any admin save. What clients submitted is read-only, the email masked.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit.admin_mixins import AuditedModelAdmin
from yiwang.hotline.models import Category
from yiwang.identity.permissions import is_platform_admin
from yiwang.interop import services
from yiwang.interop.models import Open311Attribute, Open311Client, Open311Request
from yiwang.interop.text import mask_personal


class IssueKeyForm(forms.ModelForm):
    contact = forms.CharField(
        label=gettext_lazy("联系人及联系方式"), max_length=200, required=False
    )
    rate_per_minute = forms.IntegerField(
        label=gettext_lazy("每分钟上报上限"),
        min_value=1,
        max_value=10000,
        required=False,
        help_text=gettext_lazy("留空:使用系统默认值"),
    )

    class Meta:
        model = Open311Client
        fields = ["name", "contact", "rate_per_minute"]


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "key_prefix",
        "masked_contact",
        "is_active",
        "created_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix"]
    actions = ["revoke"]
    readonly_fields = [
        "name",
        "contact",
        "key_prefix",
        "rate_per_minute",
        "is_active",
        "created_at",
        "created_by",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    ]

    @admin.display(description=gettext_lazy("联系人及联系方式"))
    def masked_contact(self, obj: Open311Client) -> str:
        return mask_personal(obj.contact)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IssueKeyForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else IssueKeyForm.Meta.fields

    def save_model(self, request, obj, form, change):
        """Issuing goes through the service; the key is in this one message only."""
        client, key = services.issue_key(
            request.user,
            form.cleaned_data["name"],
            form.cleaned_data["contact"],
            rate_per_minute=form.cleaned_data["rate_per_minute"],
        )
        obj.pk = client.pk
        obj.key_prefix = client.key_prefix
        messages.warning(
            request,
            _("“%(name)s”的 api_key(只显示这一次,请立即交给对接方):%(key)s")
            % {"name": client.name, "key": key},
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return is_platform_admin(request.user)

    @admin.action(description=gettext_lazy("吊销所选密钥"), permissions=["revoke"])
    def revoke(self, request, queryset):
        done = 0
        for client in queryset.filter(is_active=True):
            services.revoke_key(request.user, client)
            done += 1
        messages.success(request, _("已吊销 %(n)d 个密钥") % {"n": done})


class AttributeForm(forms.ModelForm):
    class Meta:
        model = Open311Attribute
        fields = [
            "category",
            "code",
            "datatype",
            "required",
            "variable",
            "description",
            "datatype_description",
            "order",
            "values",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            children__isnull=True
        ).select_related("parent")


@admin.register(Open311Attribute)
class Open311AttributeAdmin(AuditedModelAdmin):
    audit_action = "interop.open311_attribute"
    form = AttributeForm
    list_display = ["category", "order", "code", "description", "datatype", "required"]
    list_filter = ["datatype", "required"]
    search_fields = ["code", "description", "category__name", "category__code"]
    list_select_related = ["category", "category__parent"]


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["ticket", "client", "created_at", "device_id", "account_id"]
    list_filter = ["client"]
    search_fields = ["ticket__number", "token"]
    list_select_related = ["ticket", "client"]
    show_full_result_count = False
    exclude = ["email"]
    readonly_fields = ["masked_email"]

    @admin.display(description=gettext_lazy("电子邮箱"))
    def masked_email(self, obj: Open311Request) -> str:
        return mask_personal(obj.email)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
