"""Reading seals and their keys: the key directory (JWKS) and key status at a time."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from yiwang.crypto import signing
from yiwang.identity.models import Department, StaffRole
from yiwang.identity.permissions import department_ids_with_role
from yiwang.seals.models import Seal, SealKey, SealMaker


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    suite: str
    public_der: bytes
    seal: Seal
    department: Department
    activated_at: dt.datetime
    retired_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoke_reason: str

    def check_at(self, when: dt.datetime) -> tuple[str | None, str]:
        """(failed check or None, reason): whether a signature made at `when` stands.

        Before activation the key did not exist for anyone ("key_unknown"); from
        revocation on nothing it signs counts; after retirement (rotation) it signs
        nothing new, but what it signed earlier stays valid."""
        if when < self.activated_at:
            return (
                "key_unknown",
                f"签名时间早于密钥 {self.key_id} 的启用时间 {_when(self.activated_at)}",
            )
        if self.revoked_at is not None and when >= self.revoked_at:
            reason = f":{self.revoke_reason}" if self.revoke_reason else ""
            return (
                "key_revoked",
                f"密钥 {self.key_id} 自 {_when(self.revoked_at)} 起已吊销{reason},此后的签名无效",
            )
        if self.retired_at is not None and when >= self.retired_at:
            return (
                "key_revoked",
                f"密钥 {self.key_id} 已于 {_when(self.retired_at)} 轮换停用,此后不能再签名",
            )
        return None, "密钥在签名时间有效"

    def usable_at(self, when: dt.datetime) -> tuple[bool, str]:
        failed, reason = self.check_at(when)
        return failed is None, reason


def info_of(key: SealKey) -> KeyInfo:
    return KeyInfo(
        key_id=key.key_id,
        suite=key.suite,
        public_der=bytes(key.public_der),
        seal=key.seal,
        department=key.seal.department,
        activated_at=key.activated_at,
        retired_at=key.retired_at,
        revoked_at=key.revoked_at,
        revoke_reason=key.revoke_reason,
    )


def key_info(key_id: str) -> KeyInfo | None:
    """The seal key named by a signature's `cert`/`kid`, or None if no seal has it."""
    if not isinstance(key_id, str) or not key_id or len(key_id) > 16:
        return None
    key = SealKey.objects.select_related("seal__department").filter(key_id=key_id).first()
    return info_of(key) if key else None


def maker_key(key_id: str) -> SealMaker | None:
    if not isinstance(key_id, str) or not key_id or len(key_id) > 16:
        return None
    return SealMaker.objects.filter(key_id=key_id).first()


def _epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def seal_key_jwk(key: SealKey, now: dt.datetime | None = None) -> dict[str, Any]:
    """signing.public_jwk plus the directory's metadata members (docs/seals.md "JWKS")."""
    jwk: dict[str, Any] = signing.public_jwk(key.suite, bytes(key.public_der), kid=key.key_id)
    department = key.seal.department
    jwk.update(
        {
            "x-role": "seal",
            "x-department": department.credit_code,
            "x-department-name": department.name,
            "x-seal": key.seal.es_id,
            "x-status": key.status_at(now or timezone.now()),
            "iat": _epoch(key.activated_at),
            "nbf": _epoch(key.activated_at),
            "x-retired-at": _iso(key.retired_at),
            "x-revoked-at": _iso(key.revoked_at),
        }
    )
    return jwk


def maker_jwk(maker: SealMaker) -> dict[str, Any]:
    jwk: dict[str, Any] = signing.public_jwk(maker.suite, bytes(maker.public_der), kid=maker.key_id)
    jwk.update(
        {
            "x-role": "seal-maker",
            "x-status": "active" if maker.active else "retired",
            "iat": _epoch(maker.created_at),
            "nbf": _epoch(maker.created_at),
        }
    )
    return jwk


def jwks(department_code: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every seal key ever used (retired and revoked ones too, so old signatures can be
    checked offline); without a department also the seal-maker keys."""
    keys = SealKey.objects.select_related("seal__department").order_by(
        "seal__department_id", "seal_id", "activated_at", "id"
    )
    if department_code:
        keys = keys.filter(seal__department__credit_code=department_code)
    now = timezone.now()
    result = [seal_key_jwk(key, now) for key in keys]
    if not department_code:
        result += [maker_jwk(m) for m in SealMaker.objects.order_by("created_at", "id")]
    return {"keys": result}


def jwk(kid: str) -> dict[str, Any] | None:
    key = SealKey.objects.select_related("seal__department").filter(key_id=kid).first()
    if key is not None:
        return seal_key_jwk(key)
    maker = maker_key(kid)
    return maker_jwk(maker) if maker else None


def administered_seals(user: Any) -> QuerySet[Seal]:
    """Seals of the departments the user administers; all for superusers."""
    seals = Seal.objects.select_related("department")
    if getattr(user, "is_superuser", False):
        return seals
    return seals.filter(department_id__in=department_ids_with_role(user, StaffRole.Role.ADMIN))
