"""Encrypted model fields with a blind index (DESIGN.md "Personal data").

Stored value: `key id ‖ ":" ‖ base64(nonce ‖ SM4-GCM ciphertext ‖ tag)`, so keys
can rotate: the first key in YIWANG_FIELD_KEYS encrypts, any listed key decrypts.
Lookups and uniqueness go through a separate blind-index column holding
HMAC-SM3(index key, normalized value), never through the ciphertext.
"""

import base64
from functools import cache

from django.conf import settings
from django.db import models

from yiwang.crypto.sm import hmac_sm3, sm4_gcm_decrypt, sm4_gcm_encrypt


@cache
def _keys() -> tuple[str, dict[str, bytes]]:
    pairs = [item.split(":", 1) for item in settings.YIWANG_FIELD_KEYS.split(",") if item]
    keys = {kid: bytes.fromhex(hexkey) for kid, hexkey in pairs}
    return pairs[0][0], keys


def encrypt_text(value: str) -> str:
    kid, keys = _keys()
    blob = sm4_gcm_encrypt(keys[kid], value.encode(), aad=kid.encode())
    return f"{kid}:{base64.b64encode(blob).decode()}"


def decrypt_text(stored: str) -> str:
    kid, _, b64 = stored.partition(":")
    return sm4_gcm_decrypt(_keys()[1][kid], base64.b64decode(b64), aad=kid.encode()).decode()


def blind_index(value: str, purpose: str) -> str:
    """Keyed hash for exact lookup; `purpose` keeps equal values of different kinds apart."""
    key = bytes.fromhex(settings.YIWANG_BLIND_INDEX_KEY)
    return hmac_sm3(key, f"{purpose}\x00{value}".encode()).hex()


class EncryptedTextField(models.TextField):
    """A text column encrypted at rest with SM4-GCM; Python sees plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)


def mask(value: str | None, keep_start: int = 4, keep_end: int = 4) -> str:
    """Mask the middle of a personal-data value, e.g. 1101**********002X."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_phone(value: str | None) -> str:
    """138****8000."""
    return mask(value, 3, 4)


def mask_id_number(value: str | None) -> str:
    """1101**********002X."""
    return mask(value, 4, 4)
