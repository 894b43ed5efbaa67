"""One signing interface, two suites: SM2-with-SM3 (national, default) and Ed25519.

Seals, licences and the public key directory only ever name a suite and pass DER
bytes around, so a key store (database, HSM) can hold keys without knowing the
algorithm, and a new suite is one class in `SUITES`.

Encodings (docs/signing.md):
- private keys: PKCS#8 DER, unencrypted (encryption at rest is the key store's job);
- public keys: SubjectPublicKeyInfo DER (SM2: id-ecPublicKey + curve 1.2.156.10197.1.301);
- SM2 signatures: DER SEQUENCE { r INTEGER, s INTEGER } as in GB/T 35276, computed over
  SM3(Z ‖ data) with the default signer ID "1234567812345678" (GB/T 32918.2, GM/T 0009);
- Ed25519 signatures: the 64 raw bytes of RFC 8032.
"""

import base64
from typing import Protocol

from cryptography import exceptions as c_exc
from cryptography.hazmat.primitives import serialization as c_ser
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import exceptions as t_exc
from tongsuopy.crypto import hashes as t_hashes
from tongsuopy.crypto import serialization as t_ser
from tongsuopy.crypto.asymciphers import ec as t_ec

from yiwang.crypto.sm import sm3_hex

DEFAULT_SUITE = "SM2-SM3"

# Order n of the SM2 recommended curve (GB/T 32918.5); r and s must lie in [1, n-1].
SM2_ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


class Suite(Protocol):
    name: str

    def generate_private_key(self) -> bytes: ...

    def public_key_of(self, private_der: bytes) -> bytes: ...

    def sign(self, private_der: bytes, data: bytes) -> bytes: ...

    def verify(self, public_der: bytes, data: bytes, signature: bytes) -> bool: ...

    def public_jwk(self, public_der: bytes) -> dict[str, str]: ...

    def public_key_from_jwk(self, jwk: dict) -> bytes: ...


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: object, length: int, field: str) -> bytes:
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise ValueError(f"JWK field {field!r} is not base64url text")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != length or _b64url(raw) != text:
        raise ValueError(f"JWK field {field!r} must encode exactly {length} bytes")
    return raw


class SM2SM3:
    """SM2 signature with SM3, via Tongsuo.

    Tongsuo's ECDSA(SM3) on an SM2 key already hashes SM3(Z ‖ data) with the default
    ID "1234567812345678"; the tests prove this against gmssl and the GM/T 0003.5 example.
    """

    name = "SM2-SM3"
    _algorithm = t_ec.ECDSA(t_hashes.SM3())

    def generate_private_key(self) -> bytes:
        key = t_ec.generate_private_key(t_ec.SM2())
        return key.private_bytes(
            t_ser.Encoding.DER, t_ser.PrivateFormat.PKCS8, t_ser.NoEncryption()
        )

    def _private(self, private_der: bytes):
        try:
            key = t_ser.load_der_private_key(private_der, None)
        except t_exc.UnsupportedAlgorithm as exc:
            raise ValueError("not an SM2 private key") from exc
        if not isinstance(getattr(key, "curve", None), t_ec.SM2):
            raise ValueError("not an SM2 private key")
        return key

    def _public(self, public_der: bytes):
        key = t_ser.load_der_public_key(public_der)
        if not isinstance(getattr(key, "curve", None), t_ec.SM2):
            raise ValueError("not an SM2 public key")
        return key

    def public_key_of(self, private_der: bytes) -> bytes:
        return (
            self._private(private_der)
            .public_key()
            .public_bytes(t_ser.Encoding.DER, t_ser.PublicFormat.SubjectPublicKeyInfo)
        )

    def sign(self, private_der: bytes, data: bytes) -> bytes:
        return self._private(private_der).sign(data, self._algorithm)

    def verify(self, public_der: bytes, data: bytes, signature: bytes) -> bool:
        try:
            key = self._public(public_der)
            # Only strict DER with r, s in range reaches Tongsuo: no malleable encodings,
            # and no garbage that would surface as an InternalError from its ASN.1 parser.
            r, s = decode_dss_signature(signature)
            if not (0 < r < SM2_ORDER and 0 < s < SM2_ORDER):
                return False
            if encode_dss_signature(r, s) != signature:
                return False
            key.verify(signature, data, self._algorithm)
        except Exception:  # any failure on attacker-supplied bytes means "not valid"
            return False
        return True

    def public_jwk(self, public_der: bytes) -> dict[str, str]:
        numbers = self._public(public_der).public_numbers()
        return {
            "kty": "EC",
            "crv": "SM2",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }

    def public_key_from_jwk(self, jwk: dict) -> bytes:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "SM2":
            raise ValueError("JWK is not kty=EC, crv=SM2")
        x = int.from_bytes(_unb64url(jwk.get("x"), 32, "x"), "big")
        y = int.from_bytes(_unb64url(jwk.get("y"), 32, "y"), "big")
        key = t_ec.EllipticCurvePublicNumbers(x, y, t_ec.SM2()).public_key()
        return key.public_bytes(t_ser.Encoding.DER, t_ser.PublicFormat.SubjectPublicKeyInfo)


class Ed25519:
    """Ed25519 (RFC 8032) via `cryptography`, for partners outside the national suite."""

    name = "Ed25519"

    def generate_private_key(self) -> bytes:
        return ed25519.Ed25519PrivateKey.generate().private_bytes(
            c_ser.Encoding.DER, c_ser.PrivateFormat.PKCS8, c_ser.NoEncryption()
        )

    def _private(self, private_der: bytes) -> ed25519.Ed25519PrivateKey:
        try:
            key = c_ser.load_der_private_key(private_der, None)
        except c_exc.UnsupportedAlgorithm as exc:
            raise ValueError("not an Ed25519 private key") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key

    def _public(self, public_der: bytes) -> ed25519.Ed25519PublicKey:
        key = c_ser.load_der_public_key(public_der)
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key

    def public_key_of(self, private_der: bytes) -> bytes:
        return (
            self._private(private_der)
            .public_key()
            .public_bytes(c_ser.Encoding.DER, c_ser.PublicFormat.SubjectPublicKeyInfo)
        )

    def sign(self, private_der: bytes, data: bytes) -> bytes:
        return self._private(private_der).sign(data)

    def verify(self, public_der: bytes, data: bytes, signature: bytes) -> bool:
        try:
            key = self._public(public_der)
            if len(signature) != 64:
                return False
            key.verify(signature, data)
        except Exception:  # any failure on attacker-supplied bytes means "not valid"
            return False
        return True

    def public_jwk(self, public_der: bytes) -> dict[str, str]:
        raw = self._public(public_der).public_bytes(c_ser.Encoding.Raw, c_ser.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}

    def public_key_from_jwk(self, jwk: dict) -> bytes:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("JWK is not kty=OKP, crv=Ed25519")
        key = ed25519.Ed25519PublicKey.from_public_bytes(_unb64url(jwk.get("x"), 32, "x"))
        return key.public_bytes(c_ser.Encoding.DER, c_ser.PublicFormat.SubjectPublicKeyInfo)


SUITES: dict[str, Suite] = {suite.name: suite for suite in (SM2SM3(), Ed25519())}

# JWK "alg" per suite: RFC 8037 for Ed25519; SM2 has no registered value, we use the suite name.
_JWK_ALG = {"SM2-SM3": "SM2-SM3", "Ed25519": "EdDSA"}


def get_suite(name: str = DEFAULT_SUITE) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown signature suite {name!r}; known: {', '.join(SUITES)}") from None


def generate_private_key(suite: str = DEFAULT_SUITE) -> bytes:
    """A new private key as PKCS#8 DER (unencrypted: the key store encrypts it)."""
    return get_suite(suite).generate_private_key()


def public_key_of(suite: str, private_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of a private key."""
    return get_suite(suite).public_key_of(private_der)


def sign(suite: str, private_der: bytes, data: bytes) -> bytes:
    """Sign `data`; raises ValueError if the key does not belong to the suite."""
    return get_suite(suite).sign(private_der, data)


def verify(suite: str, public_der: bytes, data: bytes, signature: bytes) -> bool:
    """True only for a valid signature; never raises on bad keys or signatures."""
    return get_suite(suite).verify(public_der, data, signature)


def key_id(public_der: bytes) -> str:
    """First 16 hex digits of SM3 over the SPKI DER: stable, and names algorithm and key."""
    return sm3_hex(public_der)[:16]


def public_jwk(suite: str, public_der: bytes, kid: str | None = None) -> dict[str, str]:
    """A JWK for the key directory (kid defaults to `key_id`)."""
    jwk = get_suite(suite).public_jwk(public_der)
    jwk.update(kid=kid or key_id(public_der), use="sig", alg=_JWK_ALG[suite])
    return jwk


def public_key_from_jwk(jwk: dict) -> tuple[str, bytes]:
    """(suite, SPKI DER) from a directory JWK; raises ValueError on anything malformed."""
    for name, suite in SUITES.items():
        if jwk.get("alg") == _JWK_ALG[name]:
            return name, suite.public_key_from_jwk(jwk)
    raise ValueError(f"JWK alg {jwk.get('alg')!r} is not a known suite")
