"""Rules of yiwang.crypto.keystore: private keys never sit in the database in the clear."""

import base64

import pytest
from django.test import override_settings

from yiwang.crypto import keystore, signing
from yiwang.crypto.keystore import KeyRef, KeyStoreError, get_key_store
from yiwang.crypto.models import StoredKey

pytestmark = pytest.mark.django_db

SUITES = ["SM2-SM3", "Ed25519"]


@pytest.fixture
def store():
    return get_key_store()


@pytest.fixture
def captured_private(monkeypatch):
    """The PKCS#8 DER the store generated, caught on its way in."""
    seen: list[bytes] = []
    generate = signing.generate_private_key

    def spy(suite: str = signing.DEFAULT_SUITE) -> bytes:
        seen.append(generate(suite))
        return seen[-1]

    monkeypatch.setattr(signing, "generate_private_key", spy)
    return seen


def _raw_private_column(handle: str) -> str:
    # A TextField has no conversion: this is the column exactly as stored.
    return StoredKey.objects.values_list("private_encrypted", flat=True).get(handle=handle)


def test_database_is_the_default_store(store):
    assert store.name == "database"


@pytest.mark.parametrize("suite", SUITES)
def test_signatures_verify_with_the_public_key(store, suite):
    ref = store.create(suite)
    public = store.public_key(ref)
    signature = store.sign(ref, b"payload")

    assert ref == KeyRef("database", signing.key_id(public), suite, signing.key_id(public))
    assert signing.verify(suite, public, b"payload", signature)
    assert not signing.verify(suite, public, b"payloaD", signature)


@pytest.mark.parametrize("suite", SUITES)
def test_stored_row_holds_no_plaintext_private_key(store, captured_private, suite):
    ref = store.create(suite)
    (private,) = captured_private
    raw = _raw_private_column(ref.handle)
    field_kid, _, b64 = raw.partition(":")
    blob = base64.b64decode(b64)

    assert field_kid and raw.startswith(f"{field_kid}:")
    for text in (base64.b64encode(private).decode(), private.hex(), private.hex().upper()):
        assert text not in raw
    # No 16-byte window of the PKCS#8 (which contains the secret scalar) survives.
    windows = {private[i : i + 16] for i in range(len(private) - 15)}
    assert not any(window in blob or window in raw.encode("latin-1") for window in windows)


def test_ciphertext_moved_to_another_row_does_not_decrypt(store):
    first, second = store.create("SM2-SM3"), store.create("SM2-SM3")
    StoredKey.objects.filter(handle=second.handle).update(
        private_encrypted=_raw_private_column(first.handle)
    )

    with pytest.raises(KeyStoreError, match="does not decrypt"):
        store.sign(second, b"payload")


def test_altered_ciphertext_does_not_decrypt(store):
    ref = store.create("Ed25519")
    field_kid, _, b64 = _raw_private_column(ref.handle).partition(":")
    blob = bytearray(base64.b64decode(b64))
    blob[20] ^= 1
    altered = f"{field_kid}:{base64.b64encode(bytes(blob)).decode()}"
    StoredKey.objects.filter(handle=ref.handle).update(private_encrypted=altered)

    with pytest.raises(KeyStoreError, match="does not decrypt"):
        store.sign(ref, b"payload")


def test_rotated_field_key_still_decrypts(store, settings):
    ref = store.create("SM2-SM3")
    old = settings.YIWANG_FIELD_KEYS
    keystore._keys.cache_clear()
    try:
        settings.YIWANG_FIELD_KEYS = f"k9:{'ab' * 16},{old}"
        signature = store.sign(ref, b"payload")
        assert signing.verify("SM2-SM3", store.public_key(ref), b"payload", signature)
        assert store.create("SM2-SM3").handle  # new keys use k9
    finally:
        settings.YIWANG_FIELD_KEYS = old
        keystore._keys.cache_clear()


def test_unknown_field_key_is_a_clear_error(store):
    ref = store.create("SM2-SM3")
    _, _, b64 = _raw_private_column(ref.handle).partition(":")
    StoredKey.objects.filter(handle=ref.handle).update(private_encrypted=f"gone:{b64}")

    with pytest.raises(KeyStoreError, match=r"'gone'.*YIWANG_FIELD_KEYS"):
        store.sign(ref, b"payload")


@pytest.mark.parametrize("suite", SUITES)
def test_destroy_keeps_the_public_key_and_refuses_to_sign(store, suite):
    ref = store.create(suite)
    signature = store.sign(ref, b"before")
    store.destroy(ref)
    row = StoredKey.objects.get(handle=ref.handle)

    assert row.private_encrypted == "" and row.destroyed_at is not None
    assert signing.verify(suite, store.public_key(ref), b"before", signature)
    with pytest.raises(KeyStoreError, match="destroyed"):
        store.sign(ref, b"after")
    destroyed_at = row.destroyed_at
    store.destroy(ref)
    assert StoredKey.objects.get(handle=ref.handle).destroyed_at == destroyed_at


@pytest.mark.parametrize(
    "change, message",
    [
        ({"handle": "0000000000000000"}, "no stored key"),
        ({"suite": "Ed25519"}, "is SM2-SM3, not Ed25519"),
        ({"store": "hsm"}, "belongs to store 'hsm'"),
    ],
)
def test_wrong_reference_is_a_clear_error(store, change, message):
    ref = store.create("SM2-SM3")
    wrong = KeyRef(**{**ref.__dict__, **change})

    with pytest.raises(KeyStoreError, match=message):
        store.sign(wrong, b"payload")


def test_unknown_suite_is_refused(store):
    with pytest.raises(ValueError, match="unknown signature suite"):
        store.create("RSA")
    assert not StoredKey.objects.exists()


def test_unknown_store_name_is_a_clear_error():
    with pytest.raises(KeyStoreError, match=r"unknown key store 'hsm'.*registered: database"):
        get_key_store("hsm")
    with override_settings(YIWANG_KEY_STORE="pkcs11"), pytest.raises(KeyStoreError, match="pkcs11"):
        get_key_store()


def test_a_registered_store_is_found_by_setting(monkeypatch):
    class FakeHsm:
        name = "hsm"

    monkeypatch.setitem(keystore.KEY_STORES, "hsm", FakeHsm())
    with override_settings(YIWANG_KEY_STORE="hsm"):
        assert isinstance(get_key_store(), FakeHsm)
