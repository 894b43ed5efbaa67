"""Check-digit rules for identity numbers (STANDARDS.md): pure functions, no database.

Each validator returns the normalized value or raises a Django ValidationError whose
message says which rule failed and how to fix it, with a stable `code` per cause.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# GB 11643-1999 (ISO 7064 MOD 11-2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")  # not \d: it matches "٣" and "３" too
# The standard's own sample number (440524188001010014) was born in 1880, so the floor
# that catches typos is 1800, not 1900.
ID_MIN_BIRTH_YEAR = 1800

# GB 32100-2015
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUES = {ch: i for i, ch in enumerate(CREDIT_ALPHABET)}

PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 leading digits."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character for 17 leading characters (the outer % 31 matters)."""
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def _clean(value: object) -> str:
    return str(value or "").strip().upper()


def validate_id_number(value: str) -> str:
    """Normalize and check a 居民身份证号码 (18 characters, GB 11643-1999)."""
    number = _clean(value)
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码应为18位,当前为%(n)d位,请核对") % {"n": len(number)}, code="id_length"
        )
    if not _ID_SHAPE.fullmatch(number):
        raise ValidationError(
            _("身份证号码前17位只能是数字,最后一位是数字或字母X,请核对"), code="id_chars"
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < ID_MIN_BIRTH_YEAR or birth > timezone.localdate():
        raise ValidationError(
            _("身份证号码第7至14位的出生日期%(date)s不存在,请核对") % {"date": number[6:14]},
            code="id_birth_date",
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码最后一位校验码不正确,请核对"), code="id_check_digit")
    return number


def validate_credit_code(value: str) -> str:
    """Normalize and check a 统一社会信用代码 (18 characters, GB 32100-2015)."""
    code = _clean(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位,当前为%(n)d位,请核对") % {"n": len(code)},
            code="credit_length",
        )
    bad = sorted({c for c in code if c not in _CREDIT_VALUES})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符“%(chars)s”(不使用I、O、S、V、Z),请核对")
            % {"chars": "".join(bad)},
            code="credit_chars",
        )
    if credit_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("统一社会信用代码最后一位校验码不正确,请核对"), code="credit_check_digit"
        )
    return code


def validate_phone(value: str) -> str:
    """A mainland mobile number: 11 digits starting 13-19."""
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_PATTERN.fullmatch(phone):
        raise ValidationError(
            _("手机号码应为以1开头的11位数字(如13800138000),请核对"), code="phone_format"
        )
    return phone
