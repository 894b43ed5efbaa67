"""The key directory: key status at a time, JWKS members, and outside verifiers."""

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from yiwang.crypto import signing
from yiwang.identity.tests.factories import DepartmentFactory
from yiwang.seals import selectors, services
from yiwang.seals.tests.factories import SealFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_key_info_and_usable_at(seal, admin):
    key = seal.keys.get()
    info = selectors.key_info(key.key_id)
    assert (info.seal, info.department, info.suite) == (seal, seal.department, "SM2-SM3")
    assert bytes(info.public_der) == bytes(key.public_der)
    assert selectors.key_info("ffffffffffffffff") is None
    assert selectors.key_info("x" * 100) is None

    activated = key.activated_at
    assert info.usable_at(activated - HOUR) == (False, info.usable_at(activated - HOUR)[1])
    assert "启用" in info.usable_at(activated - HOUR)[1]
    assert info.usable_at(activated)[0]

    services.rotate_key(admin, seal)
    retired = selectors.key_info(key.key_id)
    assert retired.usable_at(activated)[0], "rotation does not invalidate earlier signatures"
    assert not retired.usable_at(retired.retired_at)[0]

    services.revoke_key(
        admin, key, reason="私钥泄露", effective=activated + dt.timedelta(seconds=1)
    )
    revoked = selectors.key_info(key.key_id)
    assert revoked.usable_at(activated)[0]
    ok, reason = revoked.usable_at(revoked.revoked_at)
    assert not ok and "私钥泄露" in reason


def test_jwks_members_and_status(seal, ed_seal, admin):
    old = seal.keys.get()
    new = services.rotate_key(admin, seal)
    services.revoke_key(admin, ed_seal.keys.get(), reason="私钥泄露")
    other = SealFactory(department=DepartmentFactory())
    keys = {k["kid"]: k for k in selectors.jwks(seal.department.credit_code)["keys"]}
    assert set(keys) == {old.key_id, new.key_id, ed_seal.keys.get().key_id}
    assert other.keys.get().key_id not in keys
    first = keys[old.key_id]
    assert first["x-status"] == "retired" and first["x-retired-at"]
    assert keys[new.key_id]["x-status"] == "active" and keys[new.key_id]["x-revoked-at"] is None
    ed = keys[ed_seal.keys.get().key_id]
    assert ed["x-status"] == "revoked" and ed["x-revoked-at"]
    for jwk in keys.values():
        assert jwk["use"] == "sig"
        assert jwk["x-department"] == seal.department.credit_code
        assert jwk["x-department-name"] == seal.department.name
        assert jwk["x-seal"] in {seal.es_id, ed_seal.es_id}
        assert jwk["iat"] == jwk["nbf"] and isinstance(jwk["iat"], int)
    assert first["alg"] == "SM2-SM3" and first["crv"] == "SM2"
    assert ed["kty"] == "OKP" and ed["alg"] == "EdDSA"
    everything = selectors.jwks()["keys"]
    assert {k["x-role"] for k in everything} == {"seal", "seal-maker"}
    assert selectors.jwks("000000000000000000") == {"keys": []}


def test_sm2_jwk_round_trips_through_signing(seal):
    key = seal.keys.get()
    [jwk] = selectors.jwks(seal.department.credit_code)["keys"]
    suite, public_der = signing.public_key_from_jwk(jwk)
    assert (suite, public_der) == ("SM2-SM3", bytes(key.public_der))
    raw = services.sign_raw(seal, b"licence payload")
    assert signing.verify(suite, public_der, b"licence payload", raw.signature)


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_joserfc_imports_the_ed25519_jwk_and_verifies_a_jws_made_with_sign_raw(ed_seal):
    [jwk] = [k for k in selectors.jwks(ed_seal.department.credit_code)["keys"] if k["kty"] == "OKP"]
    key = OKPKey.import_key(jwk)
    header = _b64url(json.dumps({"alg": "EdDSA", "kid": jwk["kid"]}).encode())
    payload = _b64url(json.dumps({"sub": "营业执照", "n": 1}, ensure_ascii=False).encode())
    raw = services.sign_raw(ed_seal, f"{header}.{payload}".encode())
    assert raw.suite == "Ed25519" and len(raw.signature) == 64
    token = f"{header}.{payload}.{_b64url(raw.signature)}"
    verified = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    assert json.loads(verified.payload)["sub"] == "营业执照"
    forged = f"{header}.{_b64url(b'{}')}.{_b64url(raw.signature)}"
    with pytest.raises(Exception, match="signature"):
        jws.deserialize_compact(forged, key, algorithms=["EdDSA"])
    okp_set = KeySet.import_key_set({"keys": [jwk]})
    assert jws.deserialize_compact(token, okp_set, algorithms=["EdDSA"]).payload


def test_administered_seals(people, seal):
    assert list(selectors.administered_seals(people["admin"])) == [seal]
    assert list(selectors.administered_seals(people["superuser"])) == [seal]
    for who in ("citizen", "staff", "other_admin"):
        assert not selectors.administered_seals(people[who]).exists()
    assert timezone.now()
