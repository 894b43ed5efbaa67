"""Console forms for seals: shapes only; the rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.common.forms import NamedErrorsForm
from yiwang.crypto import signing
from yiwang.identity.models import Department
from yiwang.seals.models import Seal
from yiwang.seals.services import MAX_TEXT


class SealForm(NamedErrorsForm):
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none())
    name = forms.CharField(
        label=_("印章名称"),
        max_length=100,
        help_text=_("例如“示范市市场监督管理局”或“示范市市场监督管理局行政审批专用章”"),
    )
    kind = forms.ChoiceField(label=_("印章类型"), choices=Seal.Kind.choices, initial="official")
    valid_from = forms.DateField(
        label=_("有效期起"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("有效期止"), widget=forms.DateInput(attrs={"type": "date"})
    )
    suite = forms.ChoiceField(
        label=_("签名算法"),
        choices=[(s, s) for s in signing.SUITES],
        initial=signing.DEFAULT_SUITE,
        help_text=_("国内使用 SM2-SM3;Ed25519 供国际互认"),
    )
    picture = forms.FileField(
        label=_("印模图片"),
        required=False,
        help_text=_("PNG 格式,不超过 1 MB;不上传则自动绘制红色圆形印章"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments or Department.objects.none()

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("有效期止不能早于有效期起,请检查两个日期"))
        return data


class ReasonForm(NamedErrorsForm):
    reason = forms.CharField(
        label=_("吊销原因"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
