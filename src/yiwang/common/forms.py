from django import forms
from django.utils.translation import gettext as _


class NamedErrorsForm(forms.Form):
    """Required-field errors that name the field (“请填写手机号码”), never just “必填”."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not field.required or field.error_messages.get("required") != _(
                "This field is required."
            ):
                continue
            choosing = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
            template = _("请选择%(label)s") if choosing else _("请填写%(label)s")
            field.error_messages["required"] = template % {"label": field.label or ""}
