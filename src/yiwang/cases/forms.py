"""Small Django forms of the applicant's pages (the application form itself is JSON Schema)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class WithdrawForm(forms.Form):
    """撤回 is final, so it asks for an explicit tick rather than a JavaScript confirm()."""

    confirm = forms.BooleanField(
        label=_("我确认撤回该申请,撤回后如需办理须重新申请"),
        error_messages={"required": _("请勾选“我确认撤回该申请”后再撤回")},
    )
    reason = forms.CharField(
        label=_("撤回原因"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("选填,最多 500 字"),
        error_messages={"max_length": _("撤回原因最多 500 字,请精简后再提交")},
    )
