from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
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


def attach_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """A service's error goes next to the field it names (renamed by `aliases` where the
    form calls it otherwise), or to the top of the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        for message in errors:
            form.add_error(name if name in form.fields else None, message)
