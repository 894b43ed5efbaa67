"""Form and navigation includes: what a screen reader and a keyboard user get."""

import re

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from yiwang.portal.templatetags.portal import mask


class ApplicationForm(forms.Form):
    name = forms.CharField(label="姓名", help_text="与身份证上一致")
    phone = forms.CharField(label="手机号码", required=False)
    kind = forms.ChoiceField(
        label="申请类型",
        choices=[("new", "首次申请"), ("renew", "换领")],
        widget=forms.RadioSelect,
        help_text="请选择一项",
    )
    agree = forms.BooleanField(label="我已阅读并同意")
    notes = forms.CharField(label="备注", widget=forms.Textarea, required=False)
    area = forms.ChoiceField(label="所在区", choices=[("a", "东区"), ("b", "西区")])


def render(source: str, **context) -> str:
    return Template("{% load portal %}" + source).render(Context(context))


def field_html(form: forms.Form, name: str) -> str:
    return render('{% include "portal/includes/field.html" with field=f %}', f=form[name])


@pytest.fixture
def bad_form() -> ApplicationForm:
    form = ApplicationForm(data={"name": "", "phone": "138", "kind": "", "area": "a"})
    form.add_error("name", "请填写姓名,与身份证上一致")
    assert not form.is_valid()
    return form


def test_text_field_has_label_hint_and_error_linked(bad_form):
    html = field_html(bad_form, "name")
    assert '<label class="label" for="id_name">姓名' in html
    assert '<span class="required" aria-hidden="true">*</span>' in html
    assert '<p class="hint" id="id_name_helptext">与身份证上一致</p>' in html
    assert 'id="id_name_error"' in html
    assert "请填写姓名,与身份证上一致" in html
    control = re.search(r"<input[^>]*name=\"name\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_name_helptext id_name_error"' in control
    assert 'aria-invalid="true"' in control


def test_valid_optional_field_has_no_error_or_marker():
    html = field_html(ApplicationForm(), "phone")
    assert "field-error" not in html
    assert "aria-invalid" not in html
    assert 'class="required"' not in html


def test_entered_values_are_kept(bad_form):
    assert 'value="138"' in field_html(bad_form, "phone")


def test_radio_group_is_a_fieldset_described_by_hint_and_error(bad_form):
    html = field_html(bad_form, "kind")
    assert '<fieldset aria-describedby="id_kind_helptext id_kind_error">' in html
    assert "<legend" in html
    assert '<label for="id_kind_0">首次申请</label>' in html
    assert 'type="radio"' in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("agree", 'type="checkbox"'),
        ("notes", "<textarea"),
        ("area", "<select"),
    ],
)
def test_each_widget_kind_renders_its_control_with_a_label(name, expected):
    form = ApplicationForm()
    html = field_html(form, name)
    assert expected in html
    assert f'for="{form[name].id_for_label}"' in html


def test_error_summary_links_each_error_to_its_field(bad_form):
    html = render('{% include "portal/includes/error_summary.html" with form=f %}', f=bad_form)
    assert 'role="alert"' in html
    assert 'tabindex="-1"' in html
    assert "请修正以下问题" in html
    assert '<a href="#id_name">请填写姓名,与身份证上一致</a>' in html
    assert 'href="#id_kind_0"' in html  # a radio group jumps to its first option


def test_error_summary_is_absent_for_a_clean_form():
    assert (
        render(
            '{% include "portal/includes/error_summary.html" with form=f %}', f=ApplicationForm()
        ).strip()
        == ""
    )


def test_pagination_keeps_the_other_query_parameters():
    request = RequestFactory().get("/services/", {"q": "户口", "page": "2"})
    page = Paginator(list(range(100)), 10).page(2)
    html = Template('{% include "portal/includes/pagination.html" with page_obj=p %}').render(
        RequestContext(request, {"p": page})
    )
    assert 'href="?q=%E6%88%B7%E5%8F%A3&amp;page=3" rel="next"' in html
    assert 'href="?q=%E6%88%B7%E5%8F%A3&amp;page=1" rel="prev"' in html
    assert 'aria-current="page"' in html


def test_breadcrumbs_start_at_home_and_mark_the_current_page():
    html = render(
        '{% include "portal/includes/breadcrumbs.html" with crumbs=c %}',
        c=[("办事服务", "/services/"), ("身份证换领", None)],
    )
    assert '<a href="/">首页</a>' in html
    assert '<a href="/services/">办事服务</a>' in html
    assert '<span aria-current="page">身份证换领</span>' in html


@pytest.mark.parametrize(
    ("value", "keep", "expected"),
    [
        ("11010519491231002X", "4,4", "1101**********002X"),
        ("13812345678", "3,4", "138****5678"),
        ("", "4,4", ""),
        (None, "4,4", ""),
    ],
)
def test_mask_filter(value, keep, expected):
    assert mask(value, keep) == expected
