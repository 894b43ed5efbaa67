"""SD-JWT (RFC 9901) for licences: the holder shows only the fields a verifier needs.

Compact form `<JWS>~<disclosure>~...~` (no key binding). Each selective claim is a disclosure
`base64url(JSON [salt, name, value])` whose base64url SHA-256 digest sits in the signed payload's
`_sd` array; everything else in the payload is always disclosed. Signatures come from a callable
(a seal's key in the key store), so this module never sees a private key.

JWS `alg`: "EdDSA" for Ed25519 (RFC 8037) and "SM2-SM3" for SM2 (our convention, as in the
key directory's JWKs). The SM2 signature is carried as 64-byte r‖s like ES256 (RFC 7518 §3.4);
`yiwang.crypto.signing` speaks DER, so we convert both ways.
"""

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from yiwang.crypto import signing

TYP = "dc+sd-jwt"
SD_ALG = "sha-256"
SUITE_OF_ALG = {"EdDSA": "Ed25519", "SM2-SM3": "SM2-SM3"}
ALG_OF_SUITE = {suite: alg for alg, suite in SUITE_OF_ALG.items()}
_RESERVED = {"_sd", "_sd_alg", "..."}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class SdJwtError(ValueError):
    """Why a presented SD-JWT is not accepted; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Issued:
    jwt: str
    disclosures: dict[str, str]


@dataclass(frozen=True)
class Verified:
    header: dict
    claims: dict
    disclosed: list[str] = field(default_factory=list)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Strict base64url: no padding, no stray characters, no non-canonical trailing bits."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise SdJwtError("malformed", f"{what}不是有效的 base64url 编码")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise SdJwtError("malformed", f"{what}不是有效的 base64url 编码")
    return raw


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _loads(raw: bytes, what: str) -> object:
    try:
        return json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):
        raise SdJwtError("malformed", f"{what}不是有效的 JSON") from None


def digest(disclosure: str) -> str:
    """The `_sd` entry for a disclosure: base64url SHA-256 of its ASCII text."""
    return _b64(hashlib.sha256(disclosure.encode("ascii")).digest())


def _to_jws_signature(alg: str, signature: bytes) -> bytes:
    if alg == "SM2-SM3":
        r, s = decode_dss_signature(signature)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signature


def _from_jws_signature(alg: str, raw: bytes) -> bytes:
    if alg == "SM2-SM3":
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        return encode_dss_signature(r, s)
    return raw


def issue(
    claims: dict,
    selective: dict,
    *,
    alg: str,
    kid: str,
    sign: Callable[[bytes], bytes],
) -> Issued:
    """Sign `claims` (always visible) with `selective` as disclosures; ValueError on misuse."""
    if alg not in SUITE_OF_ALG:
        raise ValueError(f"unknown JWS alg {alg!r}; known: {', '.join(SUITE_OF_ALG)}")
    clash = (set(claims) & set(selective)) | ((set(claims) | set(selective)) & _RESERVED)
    if clash:
        raise ValueError(f"claim names used twice or reserved: {sorted(clash)}")
    disclosures = {
        name: _b64(_json([_b64(secrets.token_bytes(16)), name, value]))
        for name, value in selective.items()
    }
    payload = dict(claims)
    if disclosures:
        payload["_sd"] = sorted(digest(d) for d in disclosures.values())
    payload["_sd_alg"] = SD_ALG
    header = {"alg": alg, "typ": TYP, "kid": kid}
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}"
    signature = _to_jws_signature(alg, sign(signing_input.encode("ascii")))
    return Issued(jwt=f"{signing_input}.{_b64(signature)}", disclosures=disclosures)


def present(jwt: str, disclosures: Iterable[str]) -> str:
    """The compact presentation revealing exactly `disclosures` (duplicates dropped)."""
    chosen = list(dict.fromkeys(disclosures))
    if "~" in jwt or any("~" in d for d in chosen):
        raise ValueError("a JWT or disclosure must not contain '~'")
    return "".join(f"{part}~" for part in [jwt, *chosen])


def _parse_disclosure(text: str) -> tuple[str, object]:
    decoded = _loads(_unb64(text, "披露项"), "披露项")
    if not (
        isinstance(decoded, list)
        and len(decoded) == 3
        and isinstance(decoded[0], str)
        and isinstance(decoded[1], str)
    ):
        raise SdJwtError("malformed", "披露项应为 [盐值, 名称, 值] 三元数组")
    if decoded[1] in _RESERVED:
        raise SdJwtError("malformed", f"披露项不能使用保留名称“{decoded[1]}”")
    return decoded[1], decoded[2]


def verify(text: str, resolve: Callable[[str], tuple[str, bytes] | None]) -> Verified:
    """Check signature and disclosures; raises only SdJwtError, whatever the input."""
    if not isinstance(text, str) or not text.isascii():
        raise SdJwtError("malformed", "凭证应为 ASCII 文本")
    parts = text.split("~")
    if len(parts) < 2 or parts[-1] != "":
        raise SdJwtError("malformed", "凭证格式不正确:应为“JWT~披露项~…~”,且以“~”结尾")
    jws, disclosure_texts = parts[0], parts[1:-1]
    if len(set(disclosure_texts)) != len(disclosure_texts):
        raise SdJwtError("malformed", "凭证中有重复的披露项")
    segments = jws.split(".")
    if len(segments) != 3:
        raise SdJwtError("malformed", "JWT 应由三段组成(头部.载荷.签名)")
    header = _loads(_unb64(segments[0], "JWT 头部"), "JWT 头部")
    if not isinstance(header, dict):
        raise SdJwtError("malformed", "JWT 头部应为 JSON 对象")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in SUITE_OF_ALG:
        raise SdJwtError("malformed", f"不支持的签名算法 {alg!r}")
    if header.get("typ") != TYP or "crit" in header:
        raise SdJwtError("malformed", f"JWT 头部 typ 应为“{TYP}”且不能有 crit")
    if not isinstance(kid, str) or not kid:
        raise SdJwtError("malformed", "JWT 头部缺少密钥标识 kid")
    raw_signature = _unb64(segments[2], "JWT 签名")
    if len(raw_signature) != 64:
        raise SdJwtError("malformed", "JWT 签名长度应为 64 字节")
    # The signature is checked before the payload and disclosures are parsed, so any edit
    # of the signed part reads "bad_signature" (and of a disclosure "bad_disclosure").
    key = resolve(kid)
    if key is None:
        raise SdJwtError("unknown_key", f"找不到签名密钥 {kid},无法核验,请确认发证机关已公布该密钥")
    suite, public_der = key
    signature = _from_jws_signature(alg, raw_signature)
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    if suite != SUITE_OF_ALG[alg] or not signing.verify(
        suite, public_der, signing_input, signature
    ):
        raise SdJwtError("bad_signature", "签名核验失败:凭证已被篡改或不是该密钥签发的")
    payload = _loads(_unb64(segments[1], "JWT 载荷"), "JWT 载荷")
    if not isinstance(payload, dict):
        raise SdJwtError("malformed", "JWT 载荷应为 JSON 对象")

    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise SdJwtError("malformed", f"不支持的摘要算法,应为 {SD_ALG}")
    digests = payload.get("_sd", [])
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise SdJwtError("malformed", "_sd 应为摘要字符串数组")
    if len(set(digests)) != len(digests):
        raise SdJwtError("malformed", "_sd 中有重复的摘要")
    claims = {name: value for name, value in payload.items() if name not in ("_sd", "_sd_alg")}
    known = set(digests)
    disclosed = []
    for disclosure in disclosure_texts:
        if digest(disclosure) not in known:
            raise SdJwtError("bad_disclosure", "有披露项不属于该凭证或已被篡改")
        name, value = _parse_disclosure(disclosure)
        if name in claims:
            raise SdJwtError("malformed", f"披露项“{name}”与已有字段重名")
        claims[name] = value
        disclosed.append(name)
    return Verified(header=header, claims=claims, disclosed=disclosed)
