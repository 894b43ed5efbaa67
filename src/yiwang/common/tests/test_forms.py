from django import forms

from yiwang.common.forms import NamedErrorsForm


class Sample(NamedErrorsForm):
    phone = forms.CharField(label="手机号码")
    kind = forms.ChoiceField(label="账号类型", choices=[("a", "A")])
    custom = forms.CharField(label="姓名", error_messages={"required": "请填写与身份证一致的姓名"})
    optional = forms.CharField(label="备注", required=False)


def test_required_errors_name_the_field():
    errors = Sample(data={}).errors
    assert errors["phone"] == ["请填写手机号码"]
    assert errors["kind"] == ["请选择账号类型"]
    assert errors["custom"] == ["请填写与身份证一致的姓名"]
    assert "optional" not in errors
