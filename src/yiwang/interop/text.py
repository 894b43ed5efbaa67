"""Text that crosses the interface: characters XML cannot carry, and personal data written
into free text (a caller's phone number in a ticket's description) that public answers
must not show."""

import re

from yiwang.crypto.fields import mask, mask_id_number, mask_phone

# Everything XML 1.0 forbids (§2.2 Char): C0 controls but tab and line breaks, surrogates,
# U+FFFE and U+FFFF. Such a character makes a whole XML answer unreadable to every client.
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![0-9])")
LANDLINE = re.compile(r"(?<![0-9])(0\d{2,3})[\s-]?(\d{7,8})(?![0-9])")
EMAIL = re.compile(r"([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def strip_invalid(value: str) -> str:
    return XML_INVALID.sub("", value)


def mask_personal(value: str | None) -> str:
    """138****8000, 1101**********002X, 0591-****5678, z***@example.cn."""
    if not value:
        return ""
    value = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), value)
    value = MOBILE.sub(lambda m: mask_phone("".join(m.groups())), value)
    value = LANDLINE.sub(lambda m: f"{m.group(1)}-{mask(m.group(2), 0, 4)}", value)
    return EMAIL.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(2)}", value)
