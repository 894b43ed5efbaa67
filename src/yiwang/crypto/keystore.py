"""Key stores: where signing private keys live (docs/signing.md "Key stores").

Seals and licences hold a `KeyRef` and ask the store to sign; they never see a
private key, so a deployment can swap the database store for an HSM by
registering another `KeyStore` and setting YIWANG_KEY_STORE. Stores do not audit:
crypto sits below audit, so the calling service records the event.
"""

import base64
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.utils import timezone

from yiwang.crypto import signing
from yiwang.crypto.fields import _keys
from yiwang.crypto.models import StoredKey
from yiwang.crypto.sm import sm4_gcm_decrypt, sm4_gcm_encrypt

DEFAULT_KEY_STORE = "database"


class KeyStoreError(ValueError):
    """A key cannot be used: unknown store or handle, destroyed, or undecryptable."""


@dataclass(frozen=True)
class KeyRef:
    """What a seal stores to find its key again; `key_id` is `signing.key_id(public)`."""

    store: str
    handle: str
    suite: str
    key_id: str


class KeyStore(Protocol):
    name: str

    def create(self, suite: str = signing.DEFAULT_SUITE) -> KeyRef: ...

    def public_key(self, ref: KeyRef) -> bytes: ...

    def sign(self, ref: KeyRef, data: bytes) -> bytes: ...

    def destroy(self, ref: KeyRef) -> None: ...


def _aad(field_kid: str, handle: str) -> bytes:
    # Binding the handle means a ciphertext copied onto another row fails its tag.
    return f"yiwang.crypto.keystore\x00{field_kid}\x00{handle}".encode()


class DatabaseKeyStore:
    """Private keys as PKCS#8 DER, SM4-GCM encrypted with the first YIWANG_FIELD_KEYS key.

    The key id is stored with the ciphertext, so field keys rotate like personal data
    (decision 0003). `sign` decrypts, signs and lets the plaintext go out of scope.
    """

    name = "database"

    def _row(self, ref: KeyRef):
        if ref.store != self.name:
            raise KeyStoreError(
                f"key {ref.handle!r} belongs to store {ref.store!r}, not {self.name!r}"
            )
        try:
            row = StoredKey.objects.get(handle=ref.handle)
        except StoredKey.DoesNotExist:
            raise KeyStoreError(f"no stored key with handle {ref.handle!r}") from None
        if row.suite != ref.suite:
            raise KeyStoreError(f"key {ref.handle!r} is {row.suite}, not {ref.suite}")
        return row

    def create(self, suite: str = signing.DEFAULT_SUITE) -> KeyRef:
        private = signing.generate_private_key(suite)
        public = signing.public_key_of(suite, private)
        handle = signing.key_id(public)
        field_kid, keys = _keys()
        blob = sm4_gcm_encrypt(keys[field_kid], private, aad=_aad(field_kid, handle))
        StoredKey.objects.create(
            handle=handle,
            suite=suite,
            public_der=public,
            private_encrypted=f"{field_kid}:{base64.b64encode(blob).decode()}",
        )
        return KeyRef(self.name, handle, suite, handle)

    def public_key(self, ref: KeyRef) -> bytes:
        return bytes(self._row(ref).public_der)

    def sign(self, ref: KeyRef, data: bytes) -> bytes:
        row = self._row(ref)
        if row.destroyed_at is not None or not row.private_encrypted:
            raise KeyStoreError(f"key {ref.handle!r} was destroyed on {row.destroyed_at:%Y-%m-%d}")
        field_kid, _, b64 = row.private_encrypted.partition(":")
        keys = _keys()[1]
        if field_kid not in keys:
            raise KeyStoreError(
                f"key {ref.handle!r} is encrypted with field key {field_kid!r}, "
                "which is not in YIWANG_FIELD_KEYS"
            )
        try:
            private = sm4_gcm_decrypt(
                keys[field_kid], base64.b64decode(b64), aad=_aad(field_kid, row.handle)
            )
        except (InvalidTag, ValueError):
            raise KeyStoreError(
                f"private key of {ref.handle!r} does not decrypt: the ciphertext was altered "
                "or belongs to another key"
            ) from None
        return signing.sign(row.suite, private, data)

    def destroy(self, ref: KeyRef) -> None:
        row = self._row(ref)
        if row.destroyed_at is None:
            row.destroyed_at = timezone.now()
        row.private_encrypted = ""
        row.save(update_fields=["private_encrypted", "destroyed_at"])


KEY_STORES: dict[str, KeyStore] = {}


def register_key_store(store: KeyStore) -> None:
    """Deployments call this (e.g. from an AppConfig.ready) to plug in an HSM store."""
    KEY_STORES[store.name] = store


register_key_store(DatabaseKeyStore())


def get_key_store(name: str | None = None) -> KeyStore:
    """The named store, or the one settings.YIWANG_KEY_STORE names (default "database")."""
    name = name or getattr(settings, "YIWANG_KEY_STORE", DEFAULT_KEY_STORE)
    try:
        return KEY_STORES[name]
    except KeyError:
        raise KeyStoreError(
            f"unknown key store {name!r} (YIWANG_KEY_STORE); registered: {', '.join(KEY_STORES)}"
        ) from None
