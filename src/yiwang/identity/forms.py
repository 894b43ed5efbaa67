"""Portal and console forms: shape and widgets only; the rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.common.forms import NamedErrorsForm
from yiwang.identity.models import User


def _text(autocomplete: str, css: str = "w-20", **attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": autocomplete, "class": css, **attrs})


class RegisterForm(NamedErrorsForm):
    kind = forms.ChoiceField(
        label=_("账号类型"),
        choices=[
            (User.Kind.CITIZEN, _("个人(自然人)")),
            (User.Kind.COMPANY, _("法人(企业、单位经办人)")),
        ],
        initial=User.Kind.CITIZEN,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        help_text=_("用于登录和接收办事通知"),
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "numeric", "type": "tel", "class": "w-11"}
        ),
    )
    phone_code = forms.CharField(
        label=_("短信验证码"),
        max_length=10,
        required=False,
        help_text=_("6位数字,5分钟内有效"),
        widget=_text("one-time-code", "w-6", inputmode="numeric"),
    )
    password = forms.CharField(
        label=_("设置密码"),
        max_length=128,
        help_text=_("至少8位,不能全是数字,不要与姓名或手机号相似"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "w-20"}),
    )
    real_name = forms.CharField(
        label=_("姓名"), max_length=60, help_text=_("与身份证上的姓名一致"), widget=_text("name")
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=30,
        help_text=_("18位,最后一位可能是字母X"),
        widget=_text("off", "w-20", spellcheck="false"),
    )
    company_name = forms.CharField(
        label=_("单位名称"),
        max_length=200,
        required=False,
        help_text=_("法人账号填写,与营业执照一致"),
        widget=_text("organization"),
    )
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("法人账号填写,18位,见营业执照"),
        widget=_text("off", "w-20", spellcheck="false"),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == User.Kind.COMPANY:
            for name in ("company_name", "credit_code"):
                if not data.get(name):
                    self.add_error(name, _("法人账号请填写%(label)s") % {"label": self[name].label})
        return data


class LoginForm(NamedErrorsForm):
    login = forms.CharField(
        label=_("手机号码或用户名"), max_length=150, widget=_text("username", "w-20")
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "w-20"}),
    )


class RealNameForm(NamedErrorsForm):
    real_name = forms.CharField(
        label=_("姓名"), max_length=60, help_text=_("与身份证上的姓名一致"), widget=_text("name")
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=30,
        help_text=_("18位,最后一位可能是字母X"),
        widget=_text("off", "w-20", spellcheck="false"),
    )


def add_service_errors(form: forms.Form, error) -> None:
    """Put a service's ValidationError next to the fields it names (others at the top)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
