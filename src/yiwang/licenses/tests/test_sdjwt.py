"""Rules of our SD-JWT (RFC 9901): round trips in both suites, agreement with the IETF
reference implementation (sd_jwt) and joserfc, and every tampering refused with its code."""

import base64
import contextlib
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from gmssl import sm2 as gm_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier
from tongsuopy.crypto import serialization as t_ser

from yiwang.crypto import signing
from yiwang.crypto.tests import gmssl_check
from yiwang.licenses import sdjwt

CLAIMS = {"iss": "https://example.gov.cn", "identifier": "1.2.156.3005.2.X", "name": "营业执照"}
SELECTIVE = {
    "holder_name": "张三",
    "holder_code": "110101199003071234",
    "address": "北京市东城区东华门街道 1 号",
    "capital": 1000000,
    "scope": ["餐饮服务", "食品销售"],
}
ALG = {"SM2-SM3": "SM2-SM3", "Ed25519": "EdDSA"}
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DEEP_OBJECT = base64.urlsafe_b64encode(b'{"a":' * 100_000).rstrip(b"=").decode()
NAN = base64.urlsafe_b64encode(b'["s","n",NaN]').rstrip(b"=").decode()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class Key:
    def __init__(self, suite: str):
        self.suite = suite
        self.alg = ALG[suite]
        self.private = signing.generate_private_key(suite)
        self.public = signing.public_key_of(suite, self.private)
        self.kid = signing.key_id(self.public)

    def sign(self, data: bytes) -> bytes:
        return signing.sign(self.suite, self.private, data)

    def resolve(self, kid: str):
        return (self.suite, self.public) if kid == self.kid else None

    def issue(self, claims=CLAIMS, selective=SELECTIVE) -> sdjwt.Issued:
        return sdjwt.issue(claims, selective, alg=self.alg, kid=self.kid, sign=self.sign)

    def jws(self, header: dict, payload: dict) -> str:
        """A hand-made JWS, to build tokens our issuer refuses to make."""
        signing_input = f"{b64(compact(header))}.{b64(compact(payload))}"
        signature = self.sign(signing_input.encode())
        if self.suite == "SM2-SM3":
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64(signature)}"


KEYS = {suite: Key(suite) for suite in ALG}


@pytest.fixture(params=list(ALG))
def key(request) -> Key:
    return KEYS[request.param]


def code_of(text: str, resolve) -> str:
    with pytest.raises(sdjwt.SdJwtError) as caught:
        sdjwt.verify(text, resolve)
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value.code


# --- issuing and verifying ------------------------------------------------------------------


def test_round_trip_reveals_exactly_what_is_presented(key):
    issued = key.issue()
    assert set(issued.disclosures) == set(SELECTIVE)
    shown = ["address", "holder_name"]
    text = sdjwt.present(issued.jwt, [issued.disclosures[name] for name in shown])
    verified = sdjwt.verify(text, key.resolve)
    assert verified.header == {"alg": key.alg, "typ": "dc+sd-jwt", "kid": key.kid}
    assert verified.claims == CLAIMS | {name: SELECTIVE[name] for name in shown}
    assert verified.disclosed == shown


def test_presenting_nothing_and_everything(key):
    issued = key.issue()
    assert sdjwt.verify(sdjwt.present(issued.jwt, []), key.resolve).claims == CLAIMS
    everything = sdjwt.present(issued.jwt, issued.disclosures.values())
    assert sdjwt.verify(everything, key.resolve).claims == CLAIMS | SELECTIVE


def test_no_selective_claims_means_no_sd_array(key):
    issued = key.issue(selective={})
    payload = json.loads(unb64(issued.jwt.split(".")[1]))
    assert payload == CLAIMS | {"_sd_alg": "sha-256"}
    assert sdjwt.verify(issued.jwt + "~", key.resolve).claims == CLAIMS


def test_token_layout_is_rfc_9901_and_compact(key):
    issued = key.issue()
    header_b64, payload_b64, signature_b64 = issued.jwt.split(".")
    assert unb64(header_b64) == compact({"alg": key.alg, "typ": "dc+sd-jwt", "kid": key.kid})
    payload = json.loads(unb64(payload_b64))
    assert unb64(payload_b64) == compact(payload)
    assert payload["_sd_alg"] == "sha-256"
    expected = [b64(hashlib.sha256(d.encode()).digest()) for d in issued.disclosures.values()]
    assert payload["_sd"] == sorted(expected)
    assert not set(SELECTIVE) & set(payload)
    assert len(unb64(signature_b64)) == 64
    for name, disclosure in issued.disclosures.items():
        raw = unb64(disclosure)
        salt, claim, value = json.loads(raw)
        assert raw == compact([salt, claim, value])
        assert (claim, value) == (name, SELECTIVE[name])
        assert len(unb64(salt)) == 16


def test_salts_are_fresh_each_time(key):
    first, second = key.issue(), key.issue()
    assert set(first.disclosures.values()).isdisjoint(second.disclosures.values())


def test_present_dedupes_keeping_order():
    assert sdjwt.present("a.b.c", ["d2", "d1", "d2"]) == "a.b.c~d2~d1~"
    assert sdjwt.present("a.b.c", []) == "a.b.c~"
    with pytest.raises(ValueError):
        sdjwt.present("a.b.c~", [])


@pytest.mark.parametrize(
    ("claims", "selective", "alg"),
    [
        ({"name": 1}, {"name": 2}, "EdDSA"),
        ({"_sd": []}, {}, "EdDSA"),
        ({}, {"_sd_alg": "x"}, "EdDSA"),
        ({}, {"...": 1}, "EdDSA"),
        ({}, {}, "ES256"),
        ({}, {}, "Ed25519"),
        ({}, {"x": float("nan")}, "EdDSA"),
        ({"x": float("inf")}, {}, "EdDSA"),
    ],
)
def test_issue_refuses_misuse(claims, selective, alg):
    with pytest.raises(ValueError):
        sdjwt.issue(claims, selective, alg=alg, kid="k", sign=KEYS["Ed25519"].sign)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1).filter(lambda n: n not in ("_sd", "_sd_alg", "...")),
        json_values,
        max_size=4,
    )
)
def test_any_json_value_survives_a_round_trip(selective):
    key = KEYS["Ed25519"]
    issued = key.issue(claims={"iss": "x"}, selective=selective)
    text = sdjwt.present(issued.jwt, issued.disclosures.values())
    assert sdjwt.verify(text, key.resolve).claims == {"iss": "x"} | selective


# --- independent implementations ----------------------------------------------------------


def ed25519_jwk(private: bool = False) -> JWK:
    key = KEYS["Ed25519"]
    if private:
        return JWK.from_pyca(serialization.load_der_private_key(key.private, None))
    return JWK(**signing.public_jwk("Ed25519", key.public))


def test_reference_verifier_accepts_our_presentation():
    key = KEYS["Ed25519"]
    issued = key.issue()
    shown = ["holder_name", "scope"]
    text = sdjwt.present(issued.jwt, [issued.disclosures[name] for name in shown])
    seen = []

    def issuer_key(issuer, header):
        seen.append((issuer, header))
        return ed25519_jwk()

    payload = SDJWTVerifier(text, issuer_key).get_verified_payload()
    assert payload == CLAIMS | {name: SELECTIVE[name] for name in shown}
    assert seen[0][1]["kid"] == key.kid and seen[0][1]["typ"] == "dc+sd-jwt"


def test_reference_verifier_rejects_our_token_under_another_key():
    issued = KEYS["Ed25519"].issue()
    other = JWK.generate(kty="OKP", crv="Ed25519")
    with pytest.raises(Exception, match=r"(?i)verif"):
        SDJWTVerifier(sdjwt.present(issued.jwt, []), lambda issuer, header: other)


def test_reference_issuer_output_verifies_here():
    key = KEYS["Ed25519"]
    claims = {"iss": "https://example.gov.cn"} | {SDObj(k): v for k, v in SELECTIVE.items()}
    reference = SDJWTIssuer(
        claims,
        ed25519_jwk(private=True),
        sign_alg="EdDSA",
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": key.kid},
    )
    issuance = reference.sd_jwt_issuance
    text = issuance if issuance.endswith("~") else issuance + "~"
    verified = sdjwt.verify(text, key.resolve)
    assert verified.claims == {"iss": "https://example.gov.cn"} | SELECTIVE
    # the reference computes the same digests we would for its disclosures
    for disclosure in reference.ii_disclosures:
        assert sdjwt.digest(disclosure.b64) == disclosure.hash


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_joserfc_verifies_the_ed25519_jws():
    from joserfc import jws
    from joserfc.jwk import OKPKey

    key = KEYS["Ed25519"]
    issued = key.issue()
    public = OKPKey.import_key(signing.public_jwk("Ed25519", key.public))
    result = jws.deserialize_compact(issued.jwt, public, algorithms=["EdDSA"])
    assert result.headers()["kid"] == key.kid
    assert json.loads(result.payload)["_sd_alg"] == "sha-256"


def test_sm2_jws_signature_is_r_s_and_verifies_in_gmssl():
    def check(tamper: bytes) -> bool:
        key = Key("SM2-SM3")  # a fresh key and token per attempt (see gmssl_check)
        numbers = t_ser.load_der_public_key(key.public).public_numbers()
        gm = gm_sm2.CryptSM2(private_key="", public_key=f"{numbers.x:064x}{numbers.y:064x}")
        header_b64, payload_b64, signature_b64 = key.issue().jwt.split(".")
        signed = f"{header_b64}.{payload_b64}".encode()
        return gm.verify_with_sm3(unb64(signature_b64).hex(), signed + tamper)

    for tamper, expected in ((b"", True), (b"x", False)):
        assert gmssl_check.answer(lambda tamper=tamper: check(tamper)) is expected


# --- tampering ------------------------------------------------------------------------------


def with_payload(jwt: str, change) -> str:
    header, payload, signature = jwt.split(".")
    decoded = json.loads(unb64(payload))
    change(decoded)
    return f"{header}.{b64(compact(decoded))}.{signature}"


def test_key_problems(key):
    issued = key.issue()
    text = sdjwt.present(issued.jwt, issued.disclosures.values())
    assert code_of(text, lambda kid: None) == "unknown_key"
    stranger = Key(key.suite)
    assert code_of(text, lambda kid: (key.suite, stranger.public)) == "bad_signature"
    other_suite = KEYS["Ed25519" if key.suite == "SM2-SM3" else "SM2-SM3"]
    assert code_of(text, lambda kid: (other_suite.suite, other_suite.public)) == "bad_signature"
    assert code_of(text, lambda kid: (other_suite.suite, key.public)) == "bad_signature"


def test_changed_payload_or_header_breaks_the_signature(key):
    issued = key.issue()

    def rename(payload):
        payload["name"] = "假执照"

    assert code_of(sdjwt.present(with_payload(issued.jwt, rename), []), key.resolve) == (
        "bad_signature"
    )

    def drop_digest(payload):
        payload["_sd"].pop()

    assert code_of(with_payload(issued.jwt, drop_digest) + "~", key.resolve) == "bad_signature"
    _, payload, signature = issued.jwt.split(".")
    other_alg = "EdDSA" if key.alg == "SM2-SM3" else "SM2-SM3"
    forged = b64(compact({"alg": other_alg, "typ": "dc+sd-jwt", "kid": key.kid}))
    assert code_of(f"{forged}.{payload}.{signature}~", key.resolve) == "bad_signature"


def test_foreign_or_forged_disclosures_are_refused(key):
    issued, other = key.issue(), key.issue()
    foreign = other.disclosures["holder_name"]
    assert code_of(sdjwt.present(issued.jwt, [foreign]), key.resolve) == "bad_disclosure"
    forged = b64(compact([b64(b"0" * 16), "holder_name", "李四"]))
    assert code_of(sdjwt.present(issued.jwt, [forged]), key.resolve) == "bad_disclosure"
    salt, name, _ = json.loads(unb64(issued.disclosures["holder_name"]))
    same_salt = b64(compact([salt, name, "李四"]))
    assert code_of(sdjwt.present(issued.jwt, [same_salt]), key.resolve) == "bad_disclosure"


def test_malformed_presentations(key):
    issued = key.issue()
    good = issued.disclosures["holder_name"]
    header, payload, signature = issued.jwt.split(".")
    cases = {
        "no trailing tilde": f"{issued.jwt}~{good}",
        "no tilde at all": issued.jwt,
        "key binding jwt": f"{issued.jwt}~{good}~{issued.jwt}",
        "duplicate disclosure": f"{issued.jwt}~{good}~{good}~",
        "two parts": f"{header}.{payload}~",
        "four parts": f"{issued.jwt}.x~",
        "padded signature": f"{header}.{payload}.{signature}==~",
        "short signature": f"{header}.{payload}.{signature[:-4]}~",
        "non-ascii": f"{issued.jwt}~é~",
        "disclosure not base64": f"{issued.jwt}~a+b/~",
        "disclosure not json": f"{issued.jwt}~{b64(b'not json')}~",
        "disclosure pair": f"{issued.jwt}~{b64(compact(['salt', 'value']))}~",
        "disclosure reserved name": f"{issued.jwt}~{b64(compact(['s', '_sd', 1]))}~",
        "disclosure bad utf-8": f"{issued.jwt}~{b64(bytes([0xFF, 0xFE]))}~",
        "disclosure NaN": f"{issued.jwt}~{NAN}~",
        "deeply nested disclosure": f"{issued.jwt}~{b64(b'[' * 100_000)}~",
        "deeply nested header": f"{DEEP_OBJECT}.{payload}.{signature}~",
        "empty": "",
        "only tildes": "~~~",
    }
    for alg in ("none", "HS256", "ES256", "Ed25519", None):
        forged = b64(compact({"alg": alg, "typ": "dc+sd-jwt", "kid": key.kid}))
        cases[f"alg {alg}"] = f"{forged}.{payload}.{signature}~"
    for label, bad_header in {
        "typ": {"alg": key.alg, "typ": "JWT", "kid": key.kid},
        "crit": {"alg": key.alg, "typ": "dc+sd-jwt", "kid": key.kid, "crit": ["x"]},
        "kid": {"alg": key.alg, "typ": "dc+sd-jwt", "kid": 7},
        "list": [key.alg],
    }.items():
        cases[f"header {label}"] = f"{b64(compact(bad_header))}.{payload}.{signature}~"
    cases["duplicate header key"] = (
        b64(f'{{"alg":"{key.alg}","alg":"{key.alg}","typ":"dc+sd-jwt","kid":"{key.kid}"}}'.encode())
        + f".{payload}.{signature}~"
    )
    # 64 bytes leave 4 unused bits in the last character: setting one decodes to the same bytes
    sloppy = signature[:-1] + B64_ALPHABET[B64_ALPHABET.index(signature[-1]) + 1]
    assert unb64(sloppy) == unb64(signature)
    cases["non-canonical base64"] = f"{header}.{payload}.{sloppy}~"
    # A disclosure the issuer never signed is refused by its digest before it is parsed.
    unsigned = {label for label in cases if label.startswith(("disclosure ", "deeply nested d"))}
    for label, text in cases.items():
        expected = "bad_disclosure" if label in unsigned else "malformed"
        assert code_of(text, key.resolve) == expected, label


def test_signed_but_inconsistent_tokens_are_malformed(key):
    header = {"alg": key.alg, "typ": "dc+sd-jwt", "kid": key.kid}
    disclosure = b64(compact([b64(b"1" * 16), "name", "真"]))
    twin = b64(compact([b64(b"2" * 16), "name", "假"]))
    digest = sdjwt.digest(disclosure)
    cases = {
        "clash with payload claim": (
            {"name": "x", "_sd": [digest], "_sd_alg": "sha-256"},
            [disclosure],
        ),
        "two disclosures, one name": (
            {"_sd": sorted([digest, sdjwt.digest(twin)]), "_sd_alg": "sha-256"},
            [disclosure, twin],
        ),
        "duplicate digest": ({"_sd": [digest, digest], "_sd_alg": "sha-256"}, [disclosure]),
        "other hash": ({"_sd": [digest], "_sd_alg": "sha-512"}, [disclosure]),
        "_sd not a list": ({"_sd": digest, "_sd_alg": "sha-256"}, [disclosure]),
        "payload a list": ([1, 2], []),
    }
    for label, (payload, disclosures) in cases.items():
        text = sdjwt.present(key.jws(header, payload), disclosures)
        assert code_of(text, key.resolve) == "malformed", label
    # a hand-made consistent one verifies, so the cases above fail for their stated reason
    good = sdjwt.present(key.jws(header, {"_sd": [digest], "_sd_alg": "sha-256"}), [disclosure])
    assert sdjwt.verify(good, key.resolve).claims == {"name": "真"}


def test_every_single_character_change_is_refused_or_harmless():
    key = KEYS["Ed25519"]
    issued = key.issue()
    text = sdjwt.present(issued.jwt, list(issued.disclosures.values())[:2])
    original = sdjwt.verify(text, key.resolve).claims
    for position in range(len(text)):
        replacement = "A" if text[position] != "A" else "B"
        changed = text[:position] + replacement + text[position + 1 :]
        with contextlib.suppress(sdjwt.SdJwtError):
            assert sdjwt.verify(changed, key.resolve).claims == original


FUZZ = {suite: KEYS[suite].issue() for suite in ALG}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suite=st.sampled_from(list(ALG)),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=3
    ),
)
def test_fuzzed_byte_flips_never_verify_with_other_claims(suite, flips):
    key = KEYS[suite]
    issued = FUZZ[suite]
    text = sdjwt.present(issued.jwt, issued.disclosures.values())
    original = sdjwt.verify(text, key.resolve).claims
    raw = bytearray(text.encode())
    for position, mask in flips:
        raw[position % len(raw)] ^= mask
    try:
        verified = sdjwt.verify(raw.decode("latin-1"), key.resolve)
    except sdjwt.SdJwtError as error:
        assert error.code in {"malformed", "unknown_key", "bad_signature", "bad_disclosure"}
    else:
        assert verified.claims == original


@settings(max_examples=300, deadline=None)
@given(
    st.text()
    | st.text(alphabet="ABCDEFabcdef0123456789-_.~=")
    | st.lists(st.text(alphabet="eyJhbGciOi0123456789-_"), max_size=6).map(".".join)
)
def test_random_text_only_ever_raises_sdjwt_error(text):
    with pytest.raises(sdjwt.SdJwtError):
        sdjwt.verify(text, KEYS["Ed25519"].resolve)


@settings(max_examples=200, deadline=None)
@given(header=json_values, payload=json_values, disclosure=json_values)
def test_random_json_parts_only_ever_raise_sdjwt_error(header, payload, disclosure):
    parts = [b64(compact(part)) for part in (header, payload)]
    text = f"{parts[0]}.{parts[1]}.{b64(bytes(64))}~{b64(compact(disclosure))}~"
    with pytest.raises(sdjwt.SdJwtError):
        sdjwt.verify(text, KEYS["Ed25519"].resolve)


def test_non_string_input_is_malformed():
    assert code_of(b"a.b.c~", KEYS["Ed25519"].resolve) == "malformed"
    assert code_of(None, KEYS["Ed25519"].resolve) == "malformed"
