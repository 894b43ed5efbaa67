"""GB 11643 and GB 32100 check digits (STANDARDS.md vectors), as tables of cases."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yiwang.identity.validators import (
    CREDIT_ALPHABET,
    credit_check_char,
    id_check_char,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("440524188001010014", "440524188001010014"),
        ("11010519491231002x", "11010519491231002X"),  # lowercase x is normalized
        (" 440524188001010014 ", "440524188001010014"),
    ],
)
def test_valid_id_numbers(value, expected):
    assert validate_id_number(value) == expected


def _future_id() -> str:
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    body = f"110105{tomorrow:%Y%m%d}001"
    return body + id_check_char(body)


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        ("", "id_length", "应为18位"),
        ("1101051949123100", "id_length", "当前为16位"),
        ("11010519491231002XX", "id_length", "当前为19位"),
        ("1101051949123100AX", "id_chars", "只能是数字"),
        ("X10105194912310020", "id_chars", "只能是数字"),
        ("110105194913310026", "id_birth_date", "19491331"),  # month 13
        ("110105194902300021", "id_birth_date", "19490230"),  # 30 February
        ("110105179912310021", "id_birth_date", "不存在"),  # before 1800
        ("110105194912310021", "id_check_digit", "最后一位校验码不正确"),
        ("440524188001010015", "id_check_digit", "最后一位校验码不正确"),
        ("11010519491231002\u0663", "id_chars", "只能是数字"),  # Arabic-Indic 3
        ("１１0105194912310020", "id_chars", "只能是数字"),  # full-width digits
    ],
)
def test_refused_id_numbers_say_why(value, code, fragment):
    with pytest.raises(ValidationError) as info:
        validate_id_number(value)
    assert info.value.code == code
    assert fragment in info.value.messages[0]


def test_birth_date_in_the_future_is_refused():
    with pytest.raises(ValidationError) as info:
        validate_id_number(_future_id())
    assert info.value.code == "id_birth_date"


def test_wrong_check_digit_message_is_exactly_the_documented_one():
    with pytest.raises(ValidationError) as info:
        validate_id_number("110105194912310021")
    assert info.value.messages == ["身份证号码最后一位校验码不正确,请核对"]


@pytest.mark.parametrize(
    "value", ["91350100M000100Y43", "91110000101623741K", "91110000101623741k"]
)
def test_valid_credit_codes(value):
    assert validate_credit_code(value) == value.upper()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350211M0000XUF46", "credit_check_digit"),  # a real code that fails the check
        ("91350100M000100Y44", "credit_check_digit"),
        ("91350100M000100Y4", "credit_length"),
        ("91350100M000100Y433", "credit_length"),
        ("91350100M0O0100Y43", "credit_chars"),  # letter O is not in the alphabet
        ("91350100I000100Y43", "credit_chars"),
        ("9135010-M000100Y43", "credit_chars"),
    ],
)
def test_refused_credit_codes(value, code):
    with pytest.raises(ValidationError) as info:
        validate_credit_code(value)
    assert info.value.code == code
    assert "统一社会信用代码" in info.value.messages[0]


def test_outer_mod_31_makes_a_zero_check_char():
    # Find a body whose weighted sum is a multiple of 31: its check char must be "0", not
    # the out-of-range alphabet[31].
    body = next(
        f"9111000010162374{c}"
        for c in CREDIT_ALPHABET
        for d in [f"9111000010162374{c}"]
        if credit_check_char(d) == "0"
    )
    assert validate_credit_code(body + "0") == body + "0"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13800138000", True),
        ("+86 138-0013-8000", True),
        ("19912345678", True),
        ("12800138000", False),
        ("1380013800", False),
        ("138001380001", False),
        ("abc", False),
        ("1380013800\u0660", False),  # Arabic-Indic 0: int() reads it, a phone cannot dial it
        ("１３８00138000", False),
    ],
)
def test_phone(value, ok):
    if ok:
        assert validate_phone(value) == "".join(c for c in value if c.isdigit())[-11:]
    else:
        with pytest.raises(ValidationError):
            validate_phone(value)


# ---- properties: every generated valid number passes; every single-character change fails

valid_ids = st.builds(
    lambda region, birth, seq: (body := f"{region}{birth:%Y%m%d}{seq:03d}") + id_check_char(body),
    st.sampled_from(["110105", "440524", "350102", "650102"]),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date.today()),
    st.integers(0, 999),
)
valid_credit = st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17).map(
    lambda body: body + credit_check_char(body)
)


@given(valid_ids)
def test_generated_id_numbers_pass(number):
    assert validate_id_number(number) == number


@given(valid_ids, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_change_to_an_id_number_is_refused(number, position, char):
    changed = number[:position] + char + number[position + 1 :]
    if changed == number:
        return
    with pytest.raises(ValidationError):
        validate_id_number(changed)


@given(valid_credit)
def test_generated_credit_codes_pass(code):
    assert validate_credit_code(code) == code


@given(valid_credit, st.integers(0, 17), st.sampled_from(CREDIT_ALPHABET))
def test_any_single_change_to_a_credit_code_is_refused(code, position, char):
    changed = code[:position] + char + code[position + 1 :]
    if changed == code:
        return
    with pytest.raises(ValidationError):
        validate_credit_code(changed)
