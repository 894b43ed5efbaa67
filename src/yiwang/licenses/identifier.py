"""证照标识 (GB/T 36904): the nationally unique, self-checking name of one licence version.

`1.2.156.3005.2.` + 证照类型代码 + `.` + 颁发机构代码 + `.` + 流水号 + `.` + 版本号 + `.` + 校验位,
the check character being ISO/IEC 7064 MOD 37,36 over the four middle fields joined without
dots, so a mistyped identifier read off paper or a scan is caught before any lookup.
"""

import re
from dataclasses import dataclass

PREFIX = "1.2.156.3005.2."

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}

_CREDIT_CODE = re.compile(r"[0-9A-Z]{18}")
_TYPE_CODE = re.compile(r"[0-9A-Z]{18}[0-9]{3}")
_SERIAL = re.compile(r"[0-9A-Z]{1,40}")
_VERSION = re.compile(r"[0-9]{3}")


@dataclass(frozen=True)
class Parsed:
    type_code: str
    issuer_code: str
    serial: str
    version: int
    check: str

    @property
    def base(self) -> str:
        """The identifier without version and check: the same for every version of a licence."""
        return f"{PREFIX}{self.type_code}.{self.issuer_code}.{self.serial}"

    def __str__(self) -> str:
        return f"{self.base}.{self.version:03d}.{self.check}"


def check_char(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid system) over 0-9A-Z; catches every single substitution."""
    product = 36
    for char in body:
        try:
            value = _VALUES[char]
        except KeyError:
            raise ValueError(f"证照标识只能包含数字和大写字母,不能包含“{char}”") from None
        total = (product + value) % 36 or 36
        product = total * 2 % 37
    return _ALPHABET[(1 - product) % 36]


def _check_fields(type_code: str, issuer_code: str, serial: str, version: int) -> None:
    if not _TYPE_CODE.fullmatch(type_code):
        raise ValueError(
            "证照类型代码应为 21 位:定义机构的 18 位统一社会信用代码加 3 位数字,"
            f"实际为“{type_code}”({len(type_code)} 位),请核对"
        )
    if not _CREDIT_CODE.fullmatch(issuer_code):
        raise ValueError(
            "颁发机构代码应为 18 位统一社会信用代码(数字和大写字母),"
            f"实际为“{issuer_code}”({len(issuer_code)} 位),请核对"
        )
    if not _SERIAL.fullmatch(serial):
        raise ValueError(
            f"流水号应为 1 到 40 位数字或大写字母,实际为“{serial}”({len(serial)} 位),请核对"
        )
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 999:
        raise ValueError(f"版本号应为 1 到 999 之间的整数,实际为 {version!r}")


def build(type_code: str, issuer_code: str, serial: str, version: int) -> str:
    """A complete identifier; raises ValueError (Chinese, naming the field) on a bad part."""
    _check_fields(type_code, issuer_code, serial, version)
    body = f"{type_code}{issuer_code}{serial}{version:03d}"
    return f"{PREFIX}{type_code}.{issuer_code}.{serial}.{version:03d}.{check_char(body)}"


def parse(text: str) -> Parsed:
    """Split and verify an identifier (lower case accepted); ValueError says what is wrong."""
    if not isinstance(text, str):
        raise ValueError("证照标识应为文本")
    normalized = text.strip().upper()
    if not normalized.startswith(PREFIX):
        raise ValueError(f"证照标识应以“{PREFIX}”开头,请核对")
    parts = normalized[len(PREFIX) :].split(".")
    if len(parts) != 5:
        raise ValueError(
            f"证照标识在“{PREFIX}”之后应有 5 段(证照类型代码.颁发机构代码.流水号.版本号.校验位),"
            f"实际为 {len(parts)} 段,请核对"
        )
    type_code, issuer_code, serial, version_text, check = parts
    if not _VERSION.fullmatch(version_text):
        raise ValueError(f"版本号应为 3 位数字,实际为“{version_text}”,请核对")
    version = int(version_text)
    _check_fields(type_code, issuer_code, serial, version)
    if len(check) != 1 or check not in _VALUES:
        raise ValueError(f"校验位应为 1 位数字或大写字母,实际为“{check}”,请核对")
    expected = check_char(f"{type_code}{issuer_code}{serial}{version_text}")
    if check != expected:
        raise ValueError(f"证照标识校验位应为 {expected},实际为 {check},请核对证照标识是否抄错")
    return Parsed(type_code, issuer_code, serial, version, check)


def base(text: str) -> str:
    """The identifier without version and check, to group the versions of one licence."""
    return parse(text).base
