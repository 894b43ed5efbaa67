"""Electronic seals: making, key rotation and revocation, signing and verification.

GB/T 38540-2020 structures (SES_SealInfo, SES_Signature) in canonical JSON with key
ids in place of X.509 certificates (decision 0013). Every change is one transaction
with one audit event; signing is called by system code and audited by the caller.
"""

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from yiwang.audit.services import record, snapshot
from yiwang.crypto import signing
from yiwang.crypto.keystore import get_key_store
from yiwang.crypto.sm import sm3_hex
from yiwang.identity.models import Department, StaffRole
from yiwang.identity.permissions import has_role
from yiwang.seals import picture as pictures
from yiwang.seals import selectors
from yiwang.seals.models import Seal, SealKey, SealMaker

VERSION = 4
VENDOR_ID = "yiwang"
SIGNATURE_ALGORITHMS = {"SM2-SM3": "1.2.156.10197.1.501", "Ed25519": "1.3.101.112"}
SEAL_DIAMETER_MM = 42
MAX_TEXT = 500


class SealError(ValidationError):
    """A seal cannot be made, changed or used; the message says why in Chinese."""


@dataclass(frozen=True)
class RawSignature:
    key_id: str
    suite: str
    signature: bytes  # DER SEQUENCE{r, s} for SM2, 64 raw bytes for Ed25519
    signed_at: dt.datetime


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    failed: str | None
    reason: str
    seal: Seal | None = None
    key: SealKey | None = None
    signed_at: dt.datetime | None = None


def canonical(data: Any) -> bytes:
    """The bytes that are hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def can_administer(user: Any, department: Department | int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or has_role(user, department, StaffRole.Role.ADMIN))


def _require_admin(actor: Any, department: Department | int) -> None:
    if not can_administer(actor, department):
        raise PermissionDenied("只有该部门的管理员可以管理电子印章")


def _day(value: dt.date) -> str:
    return value.strftime("%Y-%m-%d")


def _time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _seal_snapshot(seal: Seal) -> dict[str, Any]:
    return snapshot(seal, [f.name for f in Seal._meta.concrete_fields if f.name != "picture"])


def _key_snapshot(key: SealKey) -> dict[str, Any]:
    return snapshot(key, [f.name for f in SealKey._meta.concrete_fields if f.name != "public_der"])


# ---------------------------------------------------------------- seal maker and seal info


def _maker() -> SealMaker:
    """The active seal-maker key, created inside the key store on first need."""
    maker = SealMaker.objects.filter(active=True).first()
    if maker is not None:
        return maker
    store = get_key_store()
    try:
        with transaction.atomic():
            ref = store.create(signing.DEFAULT_SUITE)
            return SealMaker.objects.create(
                store=ref.store,
                handle=ref.handle,
                suite=ref.suite,
                key_id=ref.key_id,
                public_der=store.public_key(ref),
            )
    except IntegrityError:  # another request made it first
        return SealMaker.objects.get(active=True)


def seal_info(seal: Seal, key_ids: list[str]) -> dict[str, Any]:
    """SES_SealInfo: header, esID, property (with the cert list) and picture digest."""
    return {
        "header": {"id": "ES", "version": VERSION, "vid": VENDOR_ID},
        "esID": seal.es_id,
        "property": {
            "type": seal.kind,
            "name": seal.name,
            "certListType": "key-id",
            "certList": key_ids,
            "createDate": timezone.localdate(seal.created_at).isoformat(),
            "validStart": seal.valid_from.isoformat(),
            "validEnd": seal.valid_until.isoformat(),
        },
        "picture": {
            "type": "png",
            "sm3": sm3_hex(bytes(seal.picture)),
            "width": seal.picture_width_mm,
            "height": seal.picture_height_mm,
        },
    }


def _make_seal_info(seal: Seal, keys: list[SealKey]) -> None:
    """Write the seal info for `keys` (all keys ever used) and the maker's signature."""
    text = canonical(seal_info(seal, [k.key_id for k in keys]))
    maker = _maker()
    signature = get_key_store(maker.store).sign(maker.ref, text)
    seal.seal_info = text.decode()
    seal.maker_key_id = maker.key_id
    seal.maker_signature = base64.b64encode(signature).decode()


def _new_key(seal: Seal, suite: str, now: dt.datetime) -> SealKey:
    store = get_key_store()
    ref = store.create(suite)
    return SealKey.objects.create(
        seal=seal,
        store=ref.store,
        handle=ref.handle,
        suite=ref.suite,
        key_id=ref.key_id,
        public_der=store.public_key(ref),
        activated_at=now,
    )


# ---------------------------------------------------------------- changes


def _check_new_seal(
    name: str, kind: str, valid_from: Any, valid_until: Any, suite: str, picture_png: bytes | None
) -> tuple[dict[str, list[str]], tuple[int, int] | None]:
    errors: dict[str, list[str]] = {}
    size = None
    if not name:
        errors["name"] = ["请填写印章名称"]
    elif len(name) > 100:
        errors["name"] = ["印章名称不能超过 100 个字"]
    if kind not in Seal.Kind.values:
        errors["kind"] = ["印章类型不正确,可选:公章、业务专用章、合同专用章"]
    if not isinstance(valid_from, dt.date) or isinstance(valid_from, dt.datetime):
        errors["valid_from"] = ["请填写有效期起始日期"]
    if not isinstance(valid_until, dt.date) or isinstance(valid_until, dt.datetime):
        errors["valid_until"] = ["请填写有效期截止日期"]
    elif "valid_from" not in errors and valid_until < valid_from:
        errors["valid_until"] = ["有效期止不能早于有效期起,请检查两个日期"]
    if suite not in signing.SUITES:
        errors["suite"] = [f"签名算法不正确,可选:{'、'.join(signing.SUITES)}"]
    if picture_png is not None:
        try:
            size = pictures.check_png(picture_png)
        except ValueError as exc:
            errors["picture"] = [str(exc)]
    return errors, size


def create_seal(
    actor: Any,
    department: Department,
    *,
    name: str,
    kind: str = Seal.Kind.OFFICIAL,
    valid_from: dt.date,
    valid_until: dt.date,
    suite: str = signing.DEFAULT_SUITE,
    picture_png: bytes | None = None,
) -> Seal:
    """Make a seal with its first key (generated inside the key store); the picture is
    drawn (red round seal, department name, star) unless one is uploaded."""
    _require_admin(actor, department)
    name = (name or "").strip()
    errors, size = _check_new_seal(name, kind, valid_from, valid_until, suite, picture_png)
    if errors:
        raise SealError(errors)
    width_mm = height_mm = SEAL_DIAMETER_MM
    if picture_png is None:
        caption = "" if kind == Seal.Kind.OFFICIAL else str(Seal.Kind(kind).label)
        picture_png = pictures.draw(department.name, caption)
    elif size is not None:
        height_mm = max(1, round(SEAL_DIAMETER_MM * size[1] / size[0]))
    now = timezone.now()
    region = "".join(ch for ch in department.region_code if ch.isdigit())[:6].ljust(6, "0")
    with transaction.atomic():
        seal = Seal.objects.create(
            department=department,
            name=name,
            kind=kind,
            es_id=f"pending-{uuid.uuid4().hex}",
            picture=picture_png,
            picture_width_mm=width_mm,
            picture_height_mm=height_mm,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
        seal.es_id = f"{region}ES{seal.pk:08d}"  # the pk makes it unique without a counter
        key = _new_key(seal, suite, now)
        _make_seal_info(seal, [key])
        seal.save(update_fields=["es_id", "seal_info", "maker_key_id", "maker_signature"])
        record(
            actor,
            "seals.create_seal",
            seal,
            after={**_seal_snapshot(seal), "key_id": key.key_id, "suite": key.suite},
            department_id=department.pk,
        )
    return seal


def rotate_key(actor: Any, seal: Seal) -> SealKey:
    """A new key signs from now on; the old one is retired (its private key destroyed)
    but stays in the seal's cert list and the directory, so earlier signatures verify."""
    _require_admin(actor, seal.department_id)
    with transaction.atomic():
        seal = Seal.objects.select_for_update().get(pk=seal.pk)
        if seal.revoked_at is not None:
            raise SealError(f"印章已于 {_time(seal.revoked_at)} 吊销,不能再轮换密钥")
        keys = list(
            SealKey.objects.select_for_update().filter(seal=seal).order_by("activated_at", "id")
        )
        now = timezone.now()
        retired = []
        for old in keys:
            if old.retired_at is None:
                old.retired_at = now
                old.save(update_fields=["retired_at"])
                retired.append(old.key_id)
                get_key_store(old.store).destroy(old.ref)
        suite = keys[-1].suite if keys else signing.DEFAULT_SUITE
        key = _new_key(seal, suite, now)
        before_info = seal.seal_info
        _make_seal_info(seal, [*keys, key])
        seal.save(update_fields=["seal_info", "maker_key_id", "maker_signature"])
        record(
            actor,
            "seals.rotate_key",
            seal,
            before={"active_keys": retired, "seal_info_sm3": sm3_hex(before_info.encode())},
            after={"active_keys": [key.key_id], "seal_info_sm3": sm3_hex(seal.seal_info.encode())},
            department_id=seal.department_id,
        )
    return key


def revoke_key(
    actor: Any, key: SealKey, *, reason: str, effective: dt.datetime | None = None
) -> SealKey:
    """Signatures made at or after `effective` (default now; may lie in the past when a
    compromise is found late) no longer verify."""
    _require_admin(actor, key.seal.department_id)
    reason = (reason or "").strip()
    if not reason:
        raise SealError({"reason": ["请填写吊销原因,例如“私钥泄露”"]})
    if len(reason) > MAX_TEXT:
        raise SealError({"reason": [f"吊销原因不能超过 {MAX_TEXT} 个字"]})
    if effective is not None and timezone.is_naive(effective):
        effective = timezone.make_aware(effective)
    with transaction.atomic():
        key = SealKey.objects.select_for_update().select_related("seal").get(pk=key.pk)
        if key.revoked_at is not None:
            raise SealError(f"密钥 {key.key_id} 已于 {_time(key.revoked_at)} 吊销")
        now = timezone.now()
        before = _key_snapshot(key)
        key.revoked_at = effective or now
        key.revoke_reason = reason
        key.save(update_fields=["revoked_at", "revoke_reason"])
        if key.revoked_at <= now:
            get_key_store(key.store).destroy(key.ref)
        record(
            actor,
            "seals.revoke_key",
            key,
            before={k: before[k] for k in ("revoked_at", "revoke_reason")},
            after={k: _key_snapshot(key)[k] for k in ("revoked_at", "revoke_reason")},
            department_id=key.seal.department_id,
        )
    return key


def revoke_seal(actor: Any, seal: Seal, *, reason: str) -> Seal:
    """From now on the seal signs nothing; signatures made before stay valid."""
    _require_admin(actor, seal.department_id)
    reason = (reason or "").strip()
    if not reason:
        raise SealError({"reason": ["请填写吊销原因,例如“部门撤并”"]})
    if len(reason) > MAX_TEXT:
        raise SealError({"reason": [f"吊销原因不能超过 {MAX_TEXT} 个字"]})
    with transaction.atomic():
        seal = Seal.objects.select_for_update().get(pk=seal.pk)
        if seal.revoked_at is not None:
            raise SealError(f"印章已于 {_time(seal.revoked_at)} 吊销")
        seal.revoked_at = timezone.now()
        seal.revoke_reason = reason
        seal.save(update_fields=["revoked_at", "revoke_reason"])
        record(
            actor,
            "seals.revoke_seal",
            seal,
            before={"revoked_at": None, "revoke_reason": ""},
            after={"revoked_at": seal.revoked_at, "revoke_reason": reason},
            department_id=seal.department_id,
        )
    return seal


# ---------------------------------------------------------------- signing


def _usable_key(at: dt.datetime) -> Q:
    return (
        Q(activated_at__lte=at)
        & (Q(retired_at__isnull=True) | Q(retired_at__gt=at))
        & (Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
    )


def active_seal(department: Department, kind: str = Seal.Kind.OFFICIAL) -> Seal:
    """The newest seal of that kind that can sign now."""
    now = timezone.now()
    today = timezone.localdate(now)
    usable = SealKey.objects.filter(_usable_key(now)).values("seal_id")
    seal = (
        Seal.objects.filter(
            department=department,
            kind=kind,
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
            pk__in=usable,
        )
        .select_related("department")
        .order_by("-created_at", "-id")
        .first()
    )
    if seal is None:
        label = Seal.Kind(kind).label if kind in Seal.Kind.values else kind
        raise SealError(
            f"{department.name}没有可用的{label}(未制作、已过期、已吊销或没有有效密钥),"
            "请部门管理员在“电子印章”中制作印章或轮换密钥"
        )
    return seal


def _signing_key(seal: Seal, at: dt.datetime) -> SealKey:
    """The key that signs for `seal` at `at`, with a fresh copy of the seal attached."""
    day = timezone.localdate(at)
    key = (
        SealKey.objects.select_related("seal")
        .filter(_usable_key(at), seal_id=seal.pk)
        .filter(Q(seal__revoked_at__isnull=True) | Q(seal__revoked_at__gt=at))
        .filter(seal__valid_from__lte=day, seal__valid_until__gte=day)
        .order_by("-activated_at", "-id")
        .first()
    )
    if key is not None:
        return key
    seal = Seal.objects.get(pk=seal.pk)
    if seal.revoked_at is not None and seal.revoked_at <= at:
        raise SealError(f"印章“{seal.name}”已于 {_time(seal.revoked_at)} 吊销,不能再用于签章")
    if day < seal.valid_from:
        raise SealError(f"印章“{seal.name}”自 {_day(seal.valid_from)} 起生效,目前不能签章")
    if day > seal.valid_until:
        raise SealError(
            f"印章“{seal.name}”已于 {_day(seal.valid_until)} 到期,请部门管理员制作新印章"
        )
    raise SealError(f"印章“{seal.name}”没有可用的签名密钥,请部门管理员轮换密钥")


def sign_raw(
    seal: Seal, data: bytes, *, at: dt.datetime | None = None, key: SealKey | None = None
) -> RawSignature:
    """Sign bytes with the seal's current key (licence payloads, JWS).

    `key` is what `signing_key(seal, at)` returned to the caller in the same transaction
    (a JWS header names it before signing); it is not looked up twice.
    """
    at = at or timezone.now()
    if key is None or key.seal_id != seal.pk:
        key = _signing_key(seal, at)
    signature = get_key_store(key.store).sign(key.ref, data)
    return RawSignature(key.key_id, key.suite, signature, at)


def sign_document(
    seal: Seal, data: bytes, *, at: dt.datetime | None = None, property_info: str = ""
) -> dict[str, Any]:
    """SES_Signature over `data` as JSON (docs/seals.md "SES_Signature").

    The seal info travels inside `eseal` (as SESeal does in the standard), so a
    signature stays checkable after the seal's cert list grows with a rotation."""
    at = at or timezone.now()
    key = _signing_key(seal, at)
    current = key.seal
    to_sign = {
        "version": VERSION,
        "eseal": {
            "esID": current.es_id,
            "sealInfo": json.loads(current.seal_info),
            "sealInfoHash": sm3_hex(current.seal_info.encode()),
            "maker_key_id": current.maker_key_id,
            "maker_signature": current.maker_signature,
        },
        "timeInfo": timezone.localtime(at).isoformat(),
        "dataHash": sm3_hex(data),
        "propertyInfo": property_info,
    }
    signature = get_key_store(key.store).sign(key.ref, canonical(to_sign))
    return {
        "toSign": to_sign,
        "cert": key.key_id,
        "signatureAlgorithm": SIGNATURE_ALGORITHMS[key.suite],
        "signature": base64.b64encode(signature).decode(),
    }


# ---------------------------------------------------------------- verification


class _Malformed(ValueError):
    pass


def _need(mapping: Any, name: str, kind: type) -> Any:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Malformed(f"签章数据缺少 {name} 或其类型不正确")
    return value


def _b64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Malformed(f"{name} 不是有效的 base64") from None


def _parse(signature: Any) -> tuple[dict, dict, str, str, bytes, bytes, dt.datetime]:
    if isinstance(signature, bytes | bytearray):
        signature = bytes(signature).decode("utf-8")
    if isinstance(signature, str):
        try:
            signature = json.loads(signature)
        except (ValueError, RecursionError):
            raise _Malformed("签章数据不是有效的 JSON") from None
    to_sign = _need(signature, "toSign", dict)
    cert = _need(signature, "cert", str)
    algorithm = _need(signature, "signatureAlgorithm", str)
    sig = _b64(_need(signature, "signature", str), "signature")
    if to_sign.get("version") != VERSION:
        raise _Malformed(f"签章版本不是 {VERSION}")
    eseal = _need(to_sign, "eseal", dict)
    for name in ("esID", "sealInfoHash", "maker_key_id", "maker_signature"):
        _need(eseal, name, str)
    _need(eseal, "sealInfo", dict)
    _need(to_sign, "dataHash", str)
    _need(to_sign, "propertyInfo", str)
    try:
        signed_at = dt.datetime.fromisoformat(_need(to_sign, "timeInfo", str))
    except ValueError:
        raise _Malformed("签章时间 timeInfo 不是 ISO 8601 时间") from None
    if signed_at.tzinfo is None:
        raise _Malformed("签章时间 timeInfo 缺少时区")
    maker_sig = _b64(eseal["maker_signature"], "maker_signature")
    return to_sign, eseal, cert, algorithm, sig, maker_sig, signed_at


def _info_dates(info: dict) -> tuple[list, dt.date, dt.date]:
    prop = _need(info, "property", dict)
    cert_list = _need(prop, "certList", list)
    try:
        start = dt.date.fromisoformat(_need(prop, "validStart", str))
        end = dt.date.fromisoformat(_need(prop, "validEnd", str))
    except ValueError:
        raise _Malformed("印章信息中的有效期不是日期") from None
    return cert_list, start, end


def verify_document(signature: dict | str, data: bytes) -> SealCheck:
    """Check an SES_Signature in the order of GB/T 38540 and name the first failure:
    format, key_unknown, signature, cert_not_in_seal, seal_maker_signature,
    key_revoked/key_unknown (certificate validity), seal_validity, data_hash."""
    try:
        to_sign, eseal, cert, algorithm, sig, maker_sig, signed_at = _parse(signature)
        cert_list, valid_start, valid_end = _info_dates(eseal["sealInfo"])
        info_bytes = canonical(eseal["sealInfo"])
        tbs = canonical(to_sign)
    except (_Malformed, UnicodeDecodeError, TypeError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, _Malformed) else "签章数据格式不正确"
        return SealCheck(False, "format", reason)

    def fail(failed: str, reason: str, **found: Any) -> SealCheck:
        return SealCheck(False, failed, reason, signed_at=signed_at, **found)

    key = SealKey.objects.select_related("seal__department").filter(key_id=cert[:16]).first()
    if key is None or key.key_id != cert:
        return fail("key_unknown", f"签名密钥 {cert[:16]} 不在公钥目录中,无法验证")
    info = selectors.info_of(key)
    # 1. the signature over toSign with the signer's key
    if SIGNATURE_ALGORITHMS[info.suite] != algorithm or not signing.verify(
        info.suite, info.public_der, tbs, sig
    ):
        return fail("signature", "签名值与签章内容不符:签章数据被改动或签名无效", key=key)
    # 2. the signer's key is in the seal's cert list
    seal = Seal.objects.filter(es_id=eseal["esID"]).select_related("department").first()
    if (
        seal is None
        or seal.pk != key.seal_id
        or eseal["sealInfo"].get("esID") != eseal["esID"]
        or cert not in cert_list
    ):
        return fail("cert_not_in_seal", f"签名密钥 {cert} 不属于印章 {eseal['esID'][:40]}", key=key)
    # 3. the seal maker's signature over the seal info
    maker = selectors.maker_key(eseal["maker_key_id"])
    if (
        maker is None
        or sm3_hex(info_bytes) != eseal["sealInfoHash"]
        or not signing.verify(maker.suite, bytes(maker.public_der), info_bytes, maker_sig)
    ):
        return fail(
            "seal_maker_signature",
            "制章者对印章信息的签名无效:印章信息被改动或不是本平台制作",
            seal=seal,
            key=key,
        )
    # 4. the signer's key was valid at the signing time
    failed, reason = info.check_at(signed_at)
    if failed:
        return fail(failed, reason, seal=seal, key=key)
    # 5. the signing time lies within the seal's validity and before its revocation
    day = timezone.localdate(signed_at)
    if not (valid_start <= day <= valid_end and seal.valid_from <= day <= seal.valid_until):
        return fail(
            "seal_validity",
            f"签章时间 {_time(signed_at)} 不在印章有效期 {_day(seal.valid_from)} 至 "
            f"{_day(seal.valid_until)} 内",
            seal=seal,
            key=key,
        )
    if seal.revoked_at is not None and signed_at >= seal.revoked_at:
        return fail(
            "seal_validity",
            f"印章已于 {_time(seal.revoked_at)} 吊销,签章时间在吊销之后",
            seal=seal,
            key=key,
        )
    # 6. the document is the one that was signed
    if sm3_hex(bytes(data)) != to_sign["dataHash"]:
        return fail("data_hash", "文件内容与签章时不一致:文件被改动", seal=seal, key=key)
    return SealCheck(True, None, "签章有效", seal=seal, key=key, signed_at=signed_at)


def signing_key(seal: Seal, at: dt.datetime | None = None) -> SealKey:
    """The key `sign_raw(seal, ..., at=at)` will use, so a JWS header can name it first."""
    return _signing_key(seal, at or timezone.now())
