"""Web forms for 好差评: shapes only; the rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.common.forms import NamedErrorsForm
from yiwang.ratings.channels import WEB_CHANNELS
from yiwang.ratings.models import Rating
from yiwang.ratings.services import MAX_TEXT


class RateForm(NamedErrorsForm):
    level = forms.TypedChoiceField(
        label=_("满意度"),
        choices=Rating.Level.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("文字评价"),
        required=False,
        max_length=MAX_TEXT,
        help_text=_("选择“不满意”或“非常不满意”时请写明原因,部门将回访并整改"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    channel = forms.ChoiceField(
        choices=[(c.value, c.label) for c in WEB_CHANNELS],
        required=False,
        widget=forms.HiddenInput,
    )


class CallbackForm(NamedErrorsForm):
    notes = forms.CharField(
        label=_("回访记录"),
        max_length=MAX_TEXT,
        help_text=_("写明回访时间、方式、评价人反映的问题和意见"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    fixed_on_spot = forms.BooleanField(label=_("已当场整改"), required=False)


class CloseForm(NamedErrorsForm):
    measures = forms.CharField(
        label=_("整改措施"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    reply = forms.CharField(
        label=_("答复评价人"),
        max_length=MAX_TEXT,
        help_text=_("评价人会在“我的办件”和消息中看到这段答复"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class VoidForm(NamedErrorsForm):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=MAX_TEXT,
        help_text=_("写明申诉核实的结论:误评、恶意评价等"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
