"""Sample form for the style guide page: shows every widget the field include handles."""

from django import forms


class SampleForm(forms.Form):
    name = forms.CharField(label="姓名", help_text="与居民身份证上的姓名一致", max_length=50)
    id_number = forms.CharField(
        label="居民身份证号码",
        help_text="18 位,最后一位可能是 X",
        widget=forms.TextInput(attrs={"class": "w-20", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label="申请类型",
        choices=[("new", "首次申领"), ("renew", "到期换领"), ("lost", "遗失补领")],
        widget=forms.RadioSelect,
    )
    district = forms.ChoiceField(
        label="所在区", choices=[("", "请选择"), ("east", "东城区"), ("west", "西城区")]
    )
    notes = forms.CharField(label="补充说明", required=False, widget=forms.Textarea)
    agree = forms.BooleanField(label="我已阅读并同意《办事须知》")
