"""SES_Signature: round trips, and every check of verify_document failing on purpose.

Checks run in the order of GB/T 38540: signature → cert in seal → seal maker's
signature → key valid at signing time → seal validity → data hash.
"""

import base64
import copy
import datetime as dt
import json

import pytest
from django.utils import timezone

from yiwang.crypto.keystore import get_key_store
from yiwang.seals import services
from yiwang.seals.models import Seal
from yiwang.seals.tests.factories import SealFactory

pytestmark = pytest.mark.django_db
DATA = "行政许可决定书 第 1 号".encode()


def _resign(signature: dict, seal: Seal) -> dict:
    """What a holder of the seal key could do: change toSign and sign it again."""
    key = seal.keys.filter(retired_at__isnull=True).get()
    raw = get_key_store(key.store).sign(key.ref, services.canonical(signature["toSign"]))
    return {**signature, "signature": base64.b64encode(raw).decode(), "cert": key.key_id}


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "suite, oid", [("SM2-SM3", "1.2.156.10197.1.501"), ("Ed25519", "1.3.101.112")]
)
def test_round_trip(department, suite, oid):
    seal = SealFactory(department=department, suite=suite)
    signature = services.sign_document(seal, DATA, property_info="case:1")
    assert signature["signatureAlgorithm"] == oid
    assert signature["toSign"]["eseal"]["esID"] == seal.es_id
    check = services.verify_document(signature, DATA)
    assert (check.ok, check.failed, check.reason) == (True, None, "签章有效")
    assert check.seal == seal and check.key.key_id == signature["cert"]
    assert services.verify_document(json.dumps(signature, ensure_ascii=False), DATA).ok


def test_time_info_carries_the_zone(seal):
    at = timezone.now()
    signature = services.sign_document(seal, DATA, at=at)
    parsed = dt.datetime.fromisoformat(signature["toSign"]["timeInfo"])
    assert parsed.utcoffset() is not None and parsed == at
    assert services.verify_document(signature, DATA).signed_at == at


# ---------------------------------------------------------------- one check at a time


def test_one_changed_byte_in_the_data_fails_the_data_hash(seal):
    signature = services.sign_document(seal, DATA)
    changed = bytearray(DATA)
    changed[3] ^= 0x01
    check = services.verify_document(signature, bytes(changed))
    assert (check.ok, check.failed) == (False, "data_hash")
    assert "文件" in check.reason


@pytest.mark.parametrize("field", ["propertyInfo", "dataHash", "timeInfo"])
def test_one_changed_byte_in_to_sign_fails_the_signature(seal, field):
    signature = services.sign_document(seal, DATA, property_info="case:1")
    value = signature["toSign"][field]
    signature["toSign"][field] = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert services.verify_document(signature, DATA).failed == "signature"


@pytest.mark.parametrize("suite", ["SM2-SM3", "Ed25519"])
def test_one_changed_byte_in_the_signature_fails_it(department, suite):
    seal = SealFactory(department=department, suite=suite)
    signature = services.sign_document(seal, DATA)
    signature["signature"] = _flip(signature["signature"])
    assert services.verify_document(signature, DATA).failed == "signature"


def test_algorithm_other_than_the_keys_fails_the_signature(seal):
    signature = services.sign_document(seal, DATA)
    signature["signatureAlgorithm"] = "1.3.101.112"
    assert services.verify_document(signature, DATA).failed == "signature"


def test_unknown_signer_key(seal):
    signature = services.sign_document(seal, DATA)
    signature["cert"] = "0123456789abcdef"
    check = services.verify_document(signature, DATA)
    assert check.failed == "key_unknown" and "公钥目录" in check.reason


def test_a_key_of_another_seal_is_not_in_the_cert_list(department):
    ours, theirs = SealFactory(department=department), SealFactory(department=department)
    signature = services.sign_document(ours, DATA)
    other = services.sign_document(theirs, DATA)
    signature["toSign"]["eseal"] = other["toSign"]["eseal"]
    check = services.verify_document(_resign(signature, ours), DATA)
    assert check.failed == "cert_not_in_seal"


def test_altered_seal_maker_signature(seal):
    signature = services.sign_document(seal, DATA)
    eseal = signature["toSign"]["eseal"]
    eseal["maker_signature"] = _flip(eseal["maker_signature"])
    check = services.verify_document(_resign(signature, seal), DATA)
    assert check.failed == "seal_maker_signature" and "制章者" in check.reason


def test_seal_info_extended_by_the_key_holder_fails_the_maker_check(seal):
    """Stretching the validity in the embedded seal info breaks the maker's signature."""
    signature = services.sign_document(seal, DATA)
    eseal = signature["toSign"]["eseal"]
    eseal["sealInfo"]["property"]["validEnd"] = "2099-12-31"
    assert services.verify_document(_resign(signature, seal), DATA).failed == (
        "seal_maker_signature"
    )
    eseal["sealInfoHash"] = services.sm3_hex(services.canonical(eseal["sealInfo"]))
    assert services.verify_document(_resign(signature, seal), DATA).failed == (
        "seal_maker_signature"
    )


def test_key_revoked_before_the_signing_time_fails(seal, admin):
    signature = services.sign_document(seal, DATA)
    signed_at = dt.datetime.fromisoformat(signature["toSign"]["timeInfo"])
    services.revoke_key(admin, seal.keys.get(), reason="私钥泄露", effective=signed_at)
    check = services.verify_document(signature, DATA)
    assert check.failed == "key_revoked" and "私钥泄露" in check.reason


def test_key_revoked_after_the_signing_time_still_verifies(seal, admin):
    signature = services.sign_document(seal, DATA)
    signed_at = dt.datetime.fromisoformat(signature["toSign"]["timeInfo"])
    services.revoke_key(
        admin, seal.keys.get(), reason="私钥泄露", effective=signed_at + dt.timedelta(seconds=1)
    )
    assert services.verify_document(signature, DATA).ok


def test_signing_time_before_the_key_existed_is_unknown_key(seal):
    signature = services.sign_document(seal, DATA)
    signature["toSign"]["timeInfo"] = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert services.verify_document(_resign(signature, seal), DATA).failed == "key_unknown"


def test_signatures_of_a_retired_key_still_verify_after_rotation(seal, admin):
    before = services.sign_document(seal, DATA)
    new_key = services.rotate_key(admin, seal)
    after = services.sign_document(seal, DATA)
    assert after["cert"] == new_key.key_id != before["cert"]
    assert services.verify_document(before, DATA).ok
    assert services.verify_document(after, DATA).ok
    assert len(after["toSign"]["eseal"]["sealInfo"]["property"]["certList"]) == 2


@pytest.mark.parametrize("days", [400, 10])
def test_signing_time_outside_the_seal_validity(department, days):
    seal = SealFactory(
        department=department,
        valid_from=timezone.localdate() - dt.timedelta(days=days),
        valid_until=timezone.localdate() + dt.timedelta(days=1),
    )
    signature = services.sign_document(seal, DATA)
    late = timezone.now() + dt.timedelta(days=3)
    signature["toSign"]["timeInfo"] = late.isoformat()
    check = services.verify_document(_resign(signature, seal), DATA)
    assert check.failed == "seal_validity" and "有效期" in check.reason


def test_seal_not_yet_valid_at_signing_time(department):
    seal = SealFactory(
        department=department,
        valid_from=timezone.localdate() + dt.timedelta(days=1),
        valid_until=timezone.localdate() + dt.timedelta(days=30),
    )
    key = seal.keys.get()
    to_sign = {
        "version": 4,
        "eseal": {
            "esID": seal.es_id,
            "sealInfo": json.loads(seal.seal_info),
            "sealInfoHash": services.sm3_hex(seal.seal_info.encode()),
            "maker_key_id": seal.maker_key_id,
            "maker_signature": seal.maker_signature,
        },
        "timeInfo": timezone.localtime().isoformat(),
        "dataHash": services.sm3_hex(DATA),
        "propertyInfo": "",
    }
    raw = get_key_store(key.store).sign(key.ref, services.canonical(to_sign))
    signature = {
        "toSign": to_sign,
        "cert": key.key_id,
        "signatureAlgorithm": services.SIGNATURE_ALGORITHMS[key.suite],
        "signature": base64.b64encode(raw).decode(),
    }
    assert services.verify_document(signature, DATA).failed == "seal_validity"


def test_signature_before_seal_revocation_stays_valid_after_it_does_not(seal, admin):
    signature = services.sign_document(seal, DATA)
    forged_later = copy.deepcopy(signature)
    services.revoke_seal(admin, seal, reason="部门撤并")
    seal.refresh_from_db()
    assert services.verify_document(signature, DATA).ok
    forged_later["toSign"]["timeInfo"] = (seal.revoked_at + dt.timedelta(minutes=1)).isoformat()
    check = services.verify_document(_resign(forged_later, seal), DATA)
    assert check.failed == "seal_validity" and "吊销" in check.reason


def _valid(seal):
    return services.sign_document(seal, DATA)


GARBAGE = [
    None,
    "",
    "not json",
    b"\xff\xfe",
    "[]",
    "{}",
    '{"toSign": 1}',
    "[" * 5000 + "]" * 5000,
    42,
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_a_format_failure_never_an_exception(garbage):
    check = services.verify_document(garbage, DATA)
    assert (check.ok, check.failed) == (False, "format") and check.reason


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.update(signature="***not base64***"),
        lambda s: s.update(cert=7),
        lambda s: s["toSign"].update(version=3),
        lambda s: s["toSign"].update(timeInfo="2026-01-01T00:00:00"),
        lambda s: s["toSign"].update(timeInfo="yesterday"),
        lambda s: s["toSign"]["eseal"].pop("sealInfo"),
        lambda s: s["toSign"]["eseal"].update(maker_signature="%%%"),
        lambda s: s["toSign"]["eseal"]["sealInfo"]["property"].update(validEnd="someday"),
        lambda s: s["toSign"].pop("dataHash"),
        lambda s: s["toSign"].update(propertyInfo=True),
    ],
)
def test_malformed_members_are_format_failures(seal, mutate):
    signature = _valid(seal)
    mutate(signature)
    assert services.verify_document(signature, DATA).failed == "format"
