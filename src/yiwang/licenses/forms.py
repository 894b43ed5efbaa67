"""Forms of the portal licence pages (我的证照, 证照核验); console forms: console_forms.py."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.common.forms import NamedErrorsForm

MAX_PDF_BYTES = 10 * 1024 * 1024
DEFAULT_SHOWN = ("holder_name", "number")


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's field errors next to the form's fields; the rest on top of the form."""
    found = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for name, messages in found.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


class PortalDisclosureForm(forms.Form):
    """出示: which items the QR code discloses (a GET form, so the page works without JS)."""

    show = forms.MultipleChoiceField(
        label=_("出示的内容"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("证照名称、颁发机构、有效期和状态总会显示;其余只显示您勾选的项目"),
        error_messages={"invalid_choice": _("出示的内容中没有“%(value)s”,请从列表中选择")},
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["show"].choices = choices
        self.fields["show"].initial = [n for n, _label in choices if n in DEFAULT_SHOWN]


class PortalAuthorizationForm(NamedErrorsForm):
    """用证授权: who may read which items, for what, and for how long."""

    grantee_name = forms.CharField(
        label=_("被授权单位或部门名称"),
        max_length=200,
        help_text=_("例如“示范市某银行”或“示范市住房保障中心”"),
        widget=forms.TextInput(attrs={"class": "w-20", "autocomplete": "organization"}),
    )
    grantee_code = forms.CharField(
        label=_("被授权方统一社会信用代码"),
        max_length=18,
        required=False,
        help_text=_("选填,18 位,填写后用证时会核对"),
        widget=forms.TextInput(attrs={"class": "w-11", "autocapitalize": "characters"}),
        error_messages={"max_length": _("统一社会信用代码为 18 位,请核对")},
    )
    purpose = forms.CharField(
        label=_("用途"),
        max_length=200,
        help_text=_("例如“办理租房登记”,对方用证时会记录"),
        widget=forms.TextInput(attrs={"class": "w-20"}),
    )
    fields = forms.MultipleChoiceField(
        label=_("允许对方查看的内容"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一项允许对方查看的内容"),
            "invalid_choice": _("没有可授权项“%(value)s”,请从列表中选择"),
        },
    )
    days = forms.IntegerField(
        label=_("授权天数"),
        min_value=1,
        max_value=365,
        initial=7,
        help_text=_("1 至 365 天,到期后自动失效,也可随时撤销"),
        widget=forms.NumberInput(attrs={"class": "w-4", "inputmode": "numeric"}),
        error_messages={
            "invalid": _("授权天数请填写 1 至 365 之间的整数"),
            "min_value": _("授权天数至少 1 天"),
            "max_value": _("授权天数最多 365 天"),
        },
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = choices


class PortalVerifyTextForm(NamedErrorsForm):
    text = forms.CharField(
        label=_("二维码内容或核验链接"),
        max_length=20000,
        help_text=_("用扫码软件识别证照二维码后,把得到的文字或链接粘贴到这里"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"max_length": _("内容过长(超过 20000 字),请确认粘贴的是证照二维码内容")},
    )


class PortalVerifyPdfForm(NamedErrorsForm):
    file = forms.FileField(
        label=_("证照 PDF 文件"),
        help_text=_("从“我的证照”下载的 PDF 原件,不超过 10 MB;修改过的文件无法通过核验"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={
            "required": _("请选择要核验的证照 PDF 文件"),
            "empty": _("选择的文件是空的,请重新选择证照 PDF 文件"),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PDF_BYTES:
            raise ValidationError(_("文件超过 10 MB,请上传从平台下载的证照 PDF 原件"))
        head = upload.read(5)
        upload.seek(0)
        if not upload.name.lower().endswith(".pdf") or head != b"%PDF-":
            raise ValidationError(_("只能核验 PDF 文件,请选择扩展名为 .pdf 的证照文件"))
        return upload


class PortalVerifyIdentifierForm(NamedErrorsForm):
    identifier = forms.CharField(
        label=_("证照标识"),
        max_length=100,
        help_text=_("证照上印的证照标识,含最后一位校验码;只能查询证照状态,不显示持证人信息"),
        widget=forms.TextInput(
            attrs={"class": "w-20", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"max_length": _("证照标识最多 100 个字符,请核对")},
    )


class PortalUseAuthorizationForm(NamedErrorsForm):
    """The grantee's side of 用证授权: the token the holder gave them, and who they are."""

    token = forms.CharField(
        label=_("授权码"),
        max_length=200,
        help_text=_("持证人在“我的证照”中生成并交给您的授权码"),
        widget=forms.TextInput(
            attrs={"class": "w-20", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    used_by = forms.CharField(
        label=_("用证单位名称"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "w-20", "autocomplete": "organization"}),
    )
    purpose = forms.CharField(
        label=_("本次用途"),
        max_length=200,
        required=False,
        help_text=_("选填,不填则记为授权时的用途"),
        widget=forms.TextInput(attrs={"class": "w-20"}),
    )
