"""Rules for listing forms: which schemas we accept, how answers are checked and explained,
what is prefilled from verified data, and how the form is rendered."""

import copy
import datetime as dt

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.cases import formschema
from yiwang.cases.formschema import (
    check_schema,
    enforce_locked,
    form_fields,
    locked_fields,
    parse_post,
    prefill,
    validate_form,
)
from yiwang.identity.models import User
from yiwang.identity.tests.factories import CitizenFactory, make_credit_code, make_id_number

VERIFIED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
ID_NUMBER = make_id_number(7, birth=dt.date(1950, 6, 15))

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "x-order": ["applicant_name", "id_number", "phone", "age", "district", "agree"],
    "required": ["applicant_name", "phone", "district", "agree"],
    "properties": {
        "district": {
            "type": "string",
            "title": "户籍所在区",
            "enum": ["dongcheng", "xicheng"],
            "x-enum-labels": ["东城区", "西城区"],
        },
        "applicant_name": {
            "type": "string",
            "title": "申请人姓名",
            "x-prefill": "real_name",
            "minLength": 2,
            "maxLength": 30,
        },
        "id_number": {"type": "string", "title": "身份证号码", "x-prefill": "id_number"},
        "phone": {
            "type": "string",
            "title": "联系电话",
            "description": "用于接收办理进度短信",
            "x-prefill": "phone",
            "pattern": "^1\\d{10}$",
            "x-error": "“联系电话”格式不正确,请填写 11 位手机号码",
        },
        "age": {"type": "integer", "title": "年龄", "x-prefill": "age", "minimum": 0},
        "household_size": {"type": "integer", "title": "家庭人口", "minimum": 1, "maximum": 20},
        "income": {"type": "number", "title": "月收入(元)", "exclusiveMinimum": 0},
        "start_date": {"type": "string", "title": "开始日期", "format": "date"},
        "email": {"type": "string", "title": "电子邮箱", "format": "email"},
        "note": {"type": "string", "title": "备注", "maxLength": 500},
        "agree": {"type": "boolean", "title": "我承诺所填信息真实", "const": True},
        "lives_here": {"type": "boolean", "title": "是否在本市居住", "x-widget": "radio"},
    },
}
VALID = {"applicant_name": "张三", "phone": "13800138000", "district": "dongcheng", "agree": True}


def with_prop(name, **changes):
    schema = copy.deepcopy(SCHEMA)
    schema["properties"][name].update(changes)
    return schema


# ---------- check_schema ----------


def test_the_example_schema_is_usable():
    assert check_schema(SCHEMA) == []


def _without_type():
    schema = copy.deepcopy(SCHEMA)
    del schema["type"]
    return schema


def _nested():
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["address"] = {
        "type": "object",
        "title": "地址",
        "properties": {"city": {"type": "string"}},
    }
    return schema


def _extra(**root):
    return {**copy.deepcopy(SCHEMA), **root}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("not a dict", "JSON 对象"),
        ({"type": "object", "properties": {"a": {"type": "strin"}}}, "不是有效的 JSON Schema"),
        ({"type": "object", "properties": {"a": {"minLength": -1}}}, "不是有效的 JSON Schema"),
        (_without_type(), "type: object"),
        ({"type": "object", "properties": {}}, "type: object"),
        ({"type": "array"}, "type: object"),
        (_nested(), "“address”:不支持嵌套"),
        (
            {"type": "object", "properties": {"a": {"type": "array", "title": "A"}}},
            "“a”:不支持嵌套",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "null", "title": "A"}}},
            "“a”的 type 必须是",
        ),
        (with_prop("phone", **{"x-prefill": "wechat"}), "“phone”的 x-prefill“wechat”不存在"),
        (with_prop("phone", **{"x-widget": "slider"}), "“phone”的 x-widget“slider”不存在"),
        (with_prop("phone", **{"x-widget": "checkbox"}), "不能使用 x-widget“checkbox”"),
        (with_prop("note", **{"x-widget": "select"}), "必须用 enum 列出选项"),
        (with_prop("age", **{"x-prefill": "real_name"}), "type 必须是 string"),
        (with_prop("applicant_name", **{"x-prefill": "age"}), "type 必须是 integer 或 number"),
        (with_prop("note", format="uri"), "format 只支持"),
        (with_prop("age", format="date"), "format 只支持"),
        (with_prop("note", pattern="(unclosed"), "不是有效的"),
        (with_prop("note", title=""), "“note”缺少 title"),
        (with_prop("note", oneOf=[{"maxLength": 1}]), "不支持的关键字:oneOf"),
        (with_prop("district", **{"x-enum-labels": ["东城区"]}), "等长"),
        (with_prop("note", **{"x-enum-labels": ["a"]}), "没有 enum"),
        (with_prop("district", enum=["dongcheng", 3]), "选项 3 与 type string 不符"),
        (with_prop("note", **{"x-locked": True}), "x-locked 只对"),
        (with_prop("note", **{"x-error": 5}), "x-error 必须是文字"),
        (_extra(required=["nobody"]), "“nobody”不是已定义的字段"),
        (_extra(**{"x-order": ["phone", "ghost"]}), "x-order 中的“ghost”"),
        (_extra(additionalProperties=True), "additionalProperties 只能为 false"),
        (_extra(allOf=[{"required": ["phone"]}]), "不支持这些关键字:allOf"),
        (
            {"type": "object", "properties": {"Bad-Name": {"type": "string", "title": "x"}}},
            "“Bad-Name”只能用小写英文字母",
        ),
    ],
)
def test_unusable_schemas_are_explained(schema, expected):
    problems = check_schema(schema)
    assert any(expected in p for p in problems), problems


# ---------- validate_form ----------


def test_a_complete_form_has_no_errors():
    assert validate_form(SCHEMA, VALID) == {}


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"applicant_name": None}, "applicant_name", "请填写“申请人姓名”"),
        ({"applicant_name": "   "}, "applicant_name", "请填写“申请人姓名”"),
        ({"district": None}, "district", "请选择“户籍所在区”"),
        ({"agree": None}, "agree", "请勾选“我承诺所填信息真实”后再提交"),
        ({"agree": False}, "agree", "请勾选“我承诺所填信息真实”后再提交"),
        ({"applicant_name": "张"}, "applicant_name", "“申请人姓名”至少需要 2 个字"),
        ({"applicant_name": "张" * 31}, "applicant_name", "“申请人姓名”最多 30 个字"),
        ({"applicant_name": 12}, "applicant_name", "“申请人姓名”应填写文字"),
        ({"phone": "1380013800"}, "phone", "“联系电话”格式不正确,请填写 11 位手机号码"),
        ({"phone": "١٣٨٠٠١٣٨٠٠٠"}, "phone", "“联系电话”格式不正确"),
        ({"district": "haidian"}, "district", "“户籍所在区”请从给出的选项中选择"),
        ({"household_size": "三"}, "household_size", "“家庭人口”应填写整数"),
        ({"household_size": 2.5}, "household_size", "“家庭人口”应填写整数"),
        ({"household_size": True}, "household_size", "“家庭人口”应填写整数"),
        ({"household_size": 0}, "household_size", "“家庭人口”不能小于 1"),
        ({"household_size": 21}, "household_size", "“家庭人口”不能大于 20"),
        ({"income": 0}, "income", "“月收入(元)”应大于 0"),
        ({"income": "abc"}, "income", "“月收入(元)”应填写数字"),
        ({"income": float("nan")}, "income", "“月收入(元)”应填写有限的数字"),
        ({"start_date": "2024-5-1"}, "start_date", "请按“年-月-日”填写"),
        ({"start_date": "20240501"}, "start_date", "请按“年-月-日”填写"),
        ({"start_date": "2023-02-29"}, "start_date", "不是有效的日期"),
        ({"start_date": "２０２４-０５-０１"}, "start_date", "不是有效的日期"),
        ({"email": "not-an-email"}, "email", "“电子邮箱”不是有效的电子邮箱地址"),
        ({"lives_here": "maybe"}, "lives_here", "“是否在本市居住”应选择“是”或“否”"),
        ({"wechat": "abc"}, "__all__", "表单中有未定义的字段“wechat”"),
    ],
)
def test_errors_name_the_field_and_say_how_to_fix_it(changes, field, expected):
    errors = validate_form(SCHEMA, {**VALID, **changes})
    assert expected in " ".join(errors.get(field, [])), errors
    assert set(errors) == {field}


@pytest.mark.parametrize(
    "changes",
    [
        {"start_date": "2024-02-29"},
        {"email": "zhang.san@example.com.cn"},
        {"household_size": 3.0},
        {"income": 3500.5},
        {"lives_here": False},
        {"note": ""},
    ],
)
def test_valid_values_pass(changes):
    assert validate_form(SCHEMA, {**VALID, **changes}) == {}


def test_pattern_without_x_error_gets_a_generic_message():
    schema = with_prop("phone", **{"x-error": None})
    del schema["properties"]["phone"]["x-error"]
    errors = validate_form(schema, {**VALID, "phone": "123"})
    assert errors == {"phone": ["“联系电话”格式不正确,请核对后重新填写"]}


@pytest.mark.parametrize("data", [None, [], "x", 3, [("phone", "1")]])
def test_data_that_is_not_an_object_is_refused(data):
    assert validate_form(SCHEMA, data) == {"__all__": ["表单数据格式不正确,请刷新页面后重新填写"]}


def test_an_invalid_schema_is_a_configuration_error_not_a_citizen_error():
    with pytest.raises(ValueError, match="表单定义无效"):
        validate_form({"type": "object", "properties": {}}, {})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
keys = st.sampled_from([*SCHEMA["properties"], "other"]) | st.text(max_size=8)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(keys, json_values, max_size=8) | json_values)
def test_validate_form_never_raises(data):
    errors = validate_form(SCHEMA, data)
    assert isinstance(errors, dict)
    for key, messages in errors.items():
        assert key == "__all__" or key in SCHEMA["properties"]
        assert messages and all(isinstance(m, str) and m for m in messages)


@settings(max_examples=200)
@given(post=st.dictionaries(keys, st.text(max_size=20) | st.integers(), max_size=8))
def test_posted_strings_never_break_parsing_or_validation(post):
    assert isinstance(validate_form(SCHEMA, parse_post(SCHEMA, post)), dict)


# ---------- parse_post ----------


def test_posted_strings_become_typed_values():
    post = QueryDict(mutable=True)
    post.update(
        {
            "csrfmiddlewaretoken": "abc",
            "applicant_name": "  张三 ",
            "phone": "13800138000",
            "household_size": "３",
            "income": "3500.50",
            "note": "   ",
            "agree": "on",
            "lives_here": "false",
        }
    )
    assert parse_post(SCHEMA, post) == {
        "applicant_name": "张三",
        "phone": "13800138000",
        "household_size": 3,
        "income": 3500.5,
        "agree": True,
        "lives_here": False,
    }


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        ({}, {"agree": False}),  # an unticked checkbox is posted as nothing
        ({"agree": "true"}, {"agree": True}),
        ({"agree": "1"}, {"agree": True}),
        ({"lives_here": ""}, {"agree": False}),  # an unanswered radio stays unanswered
        ({"lives_here": "on"}, {"agree": False, "lives_here": True}),
        ({"household_size": "3.5"}, {"agree": False, "household_size": "3.5"}),
        ({"household_size": "三"}, {"agree": False, "household_size": "三"}),
        ({"income": "1e999"}, {"agree": False, "income": "1e999"}),
        ({"income": "-2"}, {"agree": False, "income": -2}),
    ],
)
def test_parse_post_table(post, expected):
    assert parse_post(SCHEMA, post) == expected


def test_a_number_that_does_not_parse_is_reported_as_a_type_error_of_that_field():
    data = parse_post(SCHEMA, {**VALID, "agree": "on", "household_size": "三口人"})
    assert validate_form(SCHEMA, data) == {"household_size": ["“家庭人口”应填写整数,例如 3"]}


# ---------- prefill and locking ----------


def citizen(**kwargs):
    values = {
        "real_name": "王秀英",
        "id_number": ID_NUMBER,
        "phone": "13912345678",
        "real_name_verified_at": VERIFIED,
        "phone_verified_at": VERIFIED,
    }
    return CitizenFactory.build(**{**values, **kwargs})


@pytest.fixture
def today(monkeypatch):
    def set_today(day):
        monkeypatch.setattr(formschema.timezone, "localdate", lambda: day)

    set_today(dt.date(2025, 6, 15))
    return set_today


def test_verified_data_is_prefilled(today):
    assert prefill(SCHEMA, citizen()) == {
        "applicant_name": "王秀英",
        "id_number": ID_NUMBER,
        "phone": "13912345678",
        "age": 75,
    }


@pytest.mark.parametrize(
    ("day", "age"),
    [(dt.date(2025, 6, 14), 74), (dt.date(2025, 6, 15), 75), (dt.date(2026, 1, 1), 75)],
)
def test_age_is_whole_years_on_the_local_date(today, day, age):
    today(day)
    assert prefill(SCHEMA, citizen())["age"] == age


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, set()),
        (citizen(real_name_verified_at=None), {"phone"}),
        (citizen(phone_verified_at=None), {"applicant_name", "id_number", "age"}),
        (citizen(real_name_verified_at=None, phone_verified_at=None), set()),
        (citizen(id_number="12345"), {"applicant_name", "id_number", "phone"}),
    ],
)
def test_only_verified_data_is_prefilled(today, user, expected):
    assert set(prefill(SCHEMA, user)) == expected


def test_anonymous_users_get_nothing(today):
    from django.contrib.auth.models import AnonymousUser

    assert prefill(SCHEMA, AnonymousUser()) == {}


COMPANY_SCHEMA = {
    "type": "object",
    "properties": {
        "company": {"type": "string", "title": "企业名称", "x-prefill": "company_name"},
        "code": {"type": "string", "title": "统一社会信用代码", "x-prefill": "credit_code"},
        "born": {"type": "string", "title": "出生日期", "x-prefill": "birth_date"},
    },
}


def test_company_agents_bring_their_company(today):
    code = make_credit_code(5, prefix="91")
    agent = citizen(kind=User.Kind.COMPANY, company_name="示范餐饮有限公司", credit_code=code)
    assert prefill(COMPANY_SCHEMA, agent) == {
        "company": "示范餐饮有限公司",
        "code": code,
        "born": "1950-06-15",
    }
    assert locked_fields(COMPANY_SCHEMA, agent) == {"code", "born"}
    assert "company" not in prefill(COMPANY_SCHEMA, citizen(company_name="某公司"))


def test_identity_facts_are_locked_once_verified(today):
    assert locked_fields(SCHEMA, citizen()) == {"applicant_name", "id_number", "age"}
    schema = with_prop("phone", **{"x-locked": True})
    schema["properties"]["age"]["x-locked"] = False
    assert locked_fields(schema, citizen()) == {"applicant_name", "id_number", "phone"}
    assert locked_fields(SCHEMA, citizen(real_name_verified_at=None)) == set()


def test_locked_values_cannot_be_changed_by_posting_others(today):
    posted = {**VALID, "applicant_name": "李四", "age": 99, "phone": "13700000000"}
    data = enforce_locked(SCHEMA, posted, citizen())
    assert data["applicant_name"] == "王秀英"
    assert data["age"] == 75
    assert data["phone"] == "13700000000"  # prefilled but not locked by default


# ---------- rendering ----------


def test_form_fields_follow_x_order_then_schema_order():
    names = [f.name for f in form_fields(SCHEMA, {}, {})]
    assert names[:6] == SCHEMA["x-order"]
    assert set(names) == set(SCHEMA["properties"])


@pytest.mark.parametrize(
    ("name", "widget", "attrs"),
    [
        ("applicant_name", "text", {"maxlength": "30", "autocomplete": "name"}),
        ("phone", "tel", {"inputmode": "tel", "autocomplete": "tel"}),
        ("age", "number", {"min": "0", "step": "1", "inputmode": "numeric"}),
        (
            "household_size",
            "number",
            {"min": "1", "max": "20", "step": "1", "inputmode": "numeric"},
        ),
        ("income", "number", {"step": "any", "inputmode": "decimal"}),
        ("start_date", "date", {}),
        ("email", "email", {"inputmode": "email", "autocomplete": "email"}),
        ("note", "textarea", {"maxlength": "500"}),
        ("agree", "checkbox", {}),
        ("lives_here", "radio", {}),
        ("district", "radio", {}),
        ("id_number", "text", {"spellcheck": "false"}),
    ],
)
def test_widgets_and_input_attributes(name, widget, attrs):
    spec = next(f for f in form_fields(SCHEMA, {}, {}) if f.name == name)
    assert (spec.widget, spec.attrs) == (widget, attrs)


def test_field_spec_carries_value_errors_choices_and_lock():
    data = {"district": "xicheng", "applicant_name": "王秀英", "lives_here": True}
    errors = {"phone": ["请填写“联系电话”"], "__all__": ["表单中有未定义的字段“x”"]}
    fields = form_fields(SCHEMA, data, errors, locked={"applicant_name"})
    by_name = {f.name: f for f in fields}
    assert fields.non_field_errors == ["表单中有未定义的字段“x”"]
    assert fields.has_errors
    district = by_name["district"]
    assert [(c.value, c.label, c.selected) for c in district.choices] == [
        ("dongcheng", "东城区", False),
        ("xicheng", "西城区", True),
    ]
    assert district.required and district.display_value == "西城区"
    assert [(c.value, c.label, c.selected) for c in by_name["lives_here"].choices] == [
        ("true", "是", True),
        ("false", "否", False),
    ]
    phone = by_name["phone"]
    assert phone.errors == ["请填写“联系电话”"]
    assert phone.help == "用于接收办理进度短信"
    assert phone.describedby == "id_phone_helptext id_phone_error"
    assert by_name["applicant_name"].readonly
    assert by_name["agree"].required  # const: true is a tick the applicant must give
    assert not form_fields(SCHEMA, {}, {}).has_errors


def render(fields):
    return render_to_string("cases/includes/form_fields.html", {"fields": fields})


def test_the_include_links_labels_hints_and_errors():
    errors = validate_form(SCHEMA, {**VALID, "phone": "123", "district": None})
    html = render(form_fields(SCHEMA, {"phone": "123"}, errors, locked={"applicant_name"}))
    assert 'class="error-summary"' in html
    assert '<a href="#id_phone">“联系电话”格式不正确,请填写 11 位手机号码</a>' in html
    assert '<a href="#id_district_0">请选择“户籍所在区”</a>' in html
    assert '<label class="label" for="id_phone">联系电话' in html
    assert 'id="id_phone_helptext"' in html and 'id="id_phone_error"' in html
    assert 'aria-describedby="id_phone_helptext id_phone_error" aria-invalid="true"' in html
    assert 'value="123"' in html
    assert '<span class="required" aria-hidden="true">*</span>' in html
    assert "field-has-error" in html
    # radios: a fieldset with a legend, every option labelled
    assert '<legend class="label">户籍所在区' in html
    assert '<label for="id_district_1">西城区</label>' in html


def test_the_include_shows_locked_fields_read_only_with_a_note(today):
    user = citizen()
    html = render(form_fields(SCHEMA, prefill(SCHEMA, user), {}, locked_fields(SCHEMA, user)))
    assert 'id="id_applicant_name" value="王秀英" readonly' in html
    assert 'aria-describedby="id_applicant_name_locked"' in html
    assert '<p class="hint" id="id_applicant_name_locked">已从实名信息带入</p>' in html
    assert 'name="phone" id="id_phone" value="13912345678" maxlength' not in html
    assert 'type="tel" name="phone" id="id_phone" value="13912345678"' in html
    assert "error-summary" not in html


def test_the_include_escapes_values():
    html = render(form_fields(SCHEMA, {"applicant_name": '"><script>x</script>'}, {}))
    assert "<script>" not in html
