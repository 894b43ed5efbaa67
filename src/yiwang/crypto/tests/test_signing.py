"""Rules of yiwang.crypto.signing, with gmssl as an independent SM2 implementation."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from gmssl import sm2 as gm_sm2
from hypothesis import given, settings
from hypothesis import strategies as st
from tongsuopy.crypto import serialization as t_ser

from yiwang.crypto import signing
from yiwang.crypto.tests import gmssl_check

SUITES = ["SM2-SM3", "Ed25519"]

# GM/T 0003.5-2012 (= GB/T 32918.5-2017) Annex A.2: SM2 signature example on the
# recommended curve, ID "1234567812345678", message "message digest".
VECTOR_X = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
VECTOR_Y = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
VECTOR_Z = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
VECTOR_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
VECTOR_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
VECTOR_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
SM2_A = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
SM2_B = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
SM2_GX = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
SM2_GY = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _sm2_point(public_der: bytes) -> tuple[int, int]:
    numbers = t_ser.load_der_public_key(public_der).public_numbers()
    return numbers.x, numbers.y


def _vector_public_der() -> bytes:
    return signing.SUITES["SM2-SM3"].public_key_from_jwk(
        {
            "kty": "EC",
            "crv": "SM2",
            "x": signing._b64url(VECTOR_X.to_bytes(32, "big")),
            "y": signing._b64url(VECTOR_Y.to_bytes(32, "big")),
        }
    )


def _gmssl(private_der: bytes | None, public_der: bytes) -> gm_sm2.CryptSM2:
    x, y = _sm2_point(public_der)
    d = ""
    if private_der is not None:
        d = f"{t_ser.load_der_private_key(private_der, None).private_numbers().private_value:064x}"
    return gm_sm2.CryptSM2(private_key=d, public_key=f"{x:064x}{y:064x}")


@pytest.fixture(params=SUITES)
def keypair(request):
    private = signing.generate_private_key(request.param)
    return request.param, private, signing.public_key_of(request.param, private)


def test_default_suite_is_national():
    assert signing.DEFAULT_SUITE == "SM2-SM3"
    assert signing.get_suite().name == "SM2-SM3"


def test_unknown_suite_is_refused_by_name():
    with pytest.raises(ValueError, match="RSA"):
        signing.generate_private_key("RSA")


def test_round_trip(keypair):
    suite, private, public = keypair
    signature = signing.sign(suite, private, "营业执照".encode())
    assert signing.verify(suite, public, "营业执照".encode(), signature)


def test_one_changed_byte_fails(keypair):
    suite, private, public = keypair
    data = b"licence payload 1.2.156.3005.2"
    signature = signing.sign(suite, private, data)
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 0x01
        assert not signing.verify(suite, public, bytes(changed), signature)
    for i in range(len(signature)):
        changed = bytearray(signature)
        changed[i] ^= 0x01
        assert not signing.verify(suite, public, data, bytes(changed))


def test_signature_under_another_key_fails(keypair):
    suite, private, _ = keypair
    other = signing.public_key_of(suite, signing.generate_private_key(suite))
    assert not signing.verify(suite, other, b"x", signing.sign(suite, private, b"x"))


def test_key_of_the_other_suite_is_refused():
    sm2_private = signing.generate_private_key("SM2-SM3")
    ed_private = signing.generate_private_key("Ed25519")
    ed_public = signing.public_key_of("Ed25519", ed_private)
    sm2_public = signing.public_key_of("SM2-SM3", sm2_private)
    with pytest.raises(ValueError):
        signing.sign("Ed25519", sm2_private, b"x")
    assert not signing.verify("SM2-SM3", ed_public, b"x", signing.sign("Ed25519", ed_private, b"x"))
    assert not signing.verify(
        "Ed25519", sm2_public, b"x", signing.sign("SM2-SM3", sm2_private, b"x")
    )


@pytest.mark.parametrize("suite", SUITES)
@settings(max_examples=25, deadline=None)
@given(public=st.binary(max_size=120), signature=st.binary(max_size=100))
def test_garbage_never_raises(suite, public, signature):
    assert signing.verify(suite, public, b"data", signature) is False


@pytest.mark.parametrize("suite", SUITES)
@settings(max_examples=25, deadline=None)
@given(signature=st.binary(max_size=100))
def test_garbage_signature_under_a_real_key_is_false_and_leaves_the_library_usable(
    suite, signature
):
    private = signing.generate_private_key(suite)
    public = signing.public_key_of(suite, private)
    assert signing.verify(suite, public, b"data", signature) is False
    assert signing.verify(suite, public, b"data", signing.sign(suite, private, b"data"))


@pytest.mark.parametrize(
    "signature",
    [
        encode_dss_signature(0, 1),
        encode_dss_signature(1, 0),
        encode_dss_signature(signing.SM2_ORDER, 1),
        encode_dss_signature(1, signing.SM2_ORDER),
        b"\x30\x06\x02\x01\xff\x02\x01\x01",  # r = -1
    ],
)
def test_sm2_out_of_range_r_s_is_false(signature):
    public = signing.public_key_of("SM2-SM3", signing.generate_private_key("SM2-SM3"))
    assert not signing.verify("SM2-SM3", public, b"x", signature)


def test_sm2_non_canonical_der_is_false():
    private = signing.generate_private_key("SM2-SM3")
    public = signing.public_key_of("SM2-SM3", private)
    signature = signing.sign("SM2-SM3", private, b"x")
    # Same r, s with a long-form length byte: BER, not DER.
    body = signature[2:]
    assert not signing.verify("SM2-SM3", public, b"x", b"\x30\x81" + bytes([len(body)]) + body)
    assert not signing.verify("SM2-SM3", public, b"x", signature + b"\x00")


def test_sm2_z_value_and_digest_of_the_standard_example():
    """Our reading of GB/T 32918.2 Z: SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)."""
    uid = b"1234567812345678"
    z = _sm3(
        (len(uid) * 8).to_bytes(2, "big")
        + uid
        + bytes.fromhex(SM2_A + SM2_B + SM2_GX + SM2_GY)
        + VECTOR_X.to_bytes(32, "big")
        + VECTOR_Y.to_bytes(32, "big")
    )
    assert z.hex() == VECTOR_Z
    assert _sm3(z + b"message digest").hex() == VECTOR_E


def test_sm2_standard_example_verifies_through_our_api():
    public = _vector_public_der()
    signature = encode_dss_signature(VECTOR_R, VECTOR_S)
    assert signing.verify("SM2-SM3", public, b"message digest", signature)
    assert not signing.verify("SM2-SM3", public, b"message digesT", signature)
    assert _sm2_point(public) == (VECTOR_X, VECTOR_Y)


def test_sm2_our_signature_verifies_in_gmssl():
    """Tongsuo hashes SM3(Z ‖ M) with the default ID, or gmssl would refuse."""

    def check(data: bytes, checked: bytes) -> bool:
        private = signing.generate_private_key("SM2-SM3")  # fresh per attempt (gmssl_check)
        public = signing.public_key_of("SM2-SM3", private)
        r, s = decode_dss_signature(signing.sign("SM2-SM3", private, data))
        return _gmssl(None, public).verify_with_sm3(f"{r:064x}{s:064x}", checked)

    for data in (b"", b"message digest", "电子证照".encode() * 100):
        assert gmssl_check.answer(lambda data=data: check(data, data)) is True
        assert gmssl_check.answer(lambda data=data: check(data, data + b"!")) is False


def test_sm2_gmssl_signature_verifies_through_our_api():
    private = signing.generate_private_key("SM2-SM3")
    public = signing.public_key_of("SM2-SM3", private)
    gm = _gmssl(private, public)
    for data in (b"", b"message digest", "电子证照".encode() * 100):
        raw = gmssl_check.answer(lambda data=data: gm.sign_with_sm3(data))  # r ‖ s, 128 hex digits
        signature = encode_dss_signature(int(raw[:64], 16), int(raw[64:], 16))
        assert signing.verify("SM2-SM3", public, data, signature)
        assert not signing.verify("SM2-SM3", public, data + b"!", signature)


def test_key_id_is_stable_and_distinct(keypair):
    suite, private, public = keypair
    assert signing.key_id(public) == signing.key_id(signing.public_key_of(suite, private))
    assert len(signing.key_id(public)) == 16
    int(signing.key_id(public), 16)
    other = signing.public_key_of(suite, signing.generate_private_key(suite))
    assert signing.key_id(other) != signing.key_id(public)


def test_key_id_is_sm3_prefix_of_spki():
    public = _vector_public_der()
    assert signing.key_id(public) == _sm3(public).hex()[:16]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_ed25519_jwk_is_rfc8037_and_decodes_to_the_same_key():
    private = signing.generate_private_key("Ed25519")
    public = signing.public_key_of("Ed25519", private)
    jwk = signing.public_jwk("Ed25519", public, "k1")
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert jwk["kid"] == "k1" and jwk["use"] == "sig"
    assert "=" not in jwk["x"] and len(_unb64(jwk["x"])) == 32
    assert public.endswith(_unb64(jwk["x"]))  # SPKI for Ed25519 ends with the raw key
    assert signing.public_key_from_jwk(jwk) == ("Ed25519", public)


def test_sm2_jwk_coordinates_are_the_uncompressed_point():
    private = signing.generate_private_key("SM2-SM3")
    public = signing.public_key_of("SM2-SM3", private)
    jwk = signing.public_jwk("SM2-SM3", public)
    assert jwk["kty"] == "EC" and jwk["crv"] == "SM2" and jwk["alg"] == "SM2-SM3"
    assert jwk["kid"] == signing.key_id(public)
    point = b"\x04" + _unb64(jwk["x"]) + _unb64(jwk["y"])
    assert len(point) == 65 and public.endswith(point)
    assert signing.public_key_from_jwk(jwk) == ("SM2-SM3", public)


def test_jwk_for_the_standard_example():
    jwk = signing.public_jwk("SM2-SM3", _vector_public_der())
    assert int.from_bytes(_unb64(jwk["x"]), "big") == VECTOR_X
    assert int.from_bytes(_unb64(jwk["y"]), "big") == VECTOR_Y


@pytest.mark.parametrize(
    "change",
    [
        {"alg": "RS256"},
        {"kty": "RSA"},
        {"crv": "P-256"},
        {"x": "not base64!"},
        {"x": "AAAA"},
        {"x": None},
        {"y": signing._b64url(b"\x00" * 32)},  # not on the curve
    ],
)
def test_malformed_sm2_jwk_is_refused(change):
    jwk = signing.public_jwk("SM2-SM3", _vector_public_der()) | change
    with pytest.raises(ValueError):
        signing.public_key_from_jwk(jwk)


@pytest.mark.parametrize("change", [{"crv": "X25519"}, {"x": "AAAA"}, {"x": 5}])
def test_malformed_ed25519_jwk_is_refused(change):
    public = signing.public_key_of("Ed25519", signing.generate_private_key("Ed25519"))
    jwk = signing.public_jwk("Ed25519", public) | change
    with pytest.raises(ValueError):
        signing.public_key_from_jwk(jwk)
