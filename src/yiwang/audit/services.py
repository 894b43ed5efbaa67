"""The audit chain (DESIGN.md "Audit chain without a global lock").

Requests only insert events carrying their own SM3 hash; `seal_pending` (run by
the worker every few seconds) groups unsealed events into blocks chained by
hash; `verify` recomputes everything and names the first thing that differs.
"""

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from yiwang.audit.models import AuditBlock, AuditEvent
from yiwang.crypto.fields import EncryptedTextField, mask
from yiwang.crypto.sm import sm3_hex

GENESIS = "0" * 64
BLOCK_SIZE = 5000


class AuditOutsideTransaction(RuntimeError):
    """Audit events must be written in the transaction of the change they record."""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def canonical(data: Any) -> bytes:
    return json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default
    ).encode()


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """JSON-safe field values for before/after; encrypted personal data is masked."""
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"password"}:
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, EncryptedTextField):
            value = mask(value)
        result[field.name] = json.loads(canonical(value))
    return result


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, so an event shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record_changes(
    actor: Any,
    action: str,
    obj: models.Model,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    **kwargs: Any,
) -> bool:
    """Record only what changed (an empty `before` means created); no change, no event."""
    old, new = changes(before, after)
    if not new and before:
        return False
    record(actor, action, obj, before=old if before else None, after=new, **kwargs)
    return True


def _hash_event(event: AuditEvent) -> str:
    return sm3_hex(
        canonical(
            {
                "created_at": event.created_at,
                "actor_id": event.actor_id,
                "actor_label": event.actor_label,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "object_label": event.object_label,
                "department_id": event.department_id,
                "before": event.before,
                "after": event.after,
                "ip": event.ip,
            }
        )
    )


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    department_id: int | None = None,
    ip: str = "",
) -> AuditEvent:
    """Write one audit event inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(action)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        created_at=timezone.now(),
        actor_id=actor.pk if authenticated else None,
        actor_label=actor.get_username() if authenticated else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=str(obj)[:200] if obj is not None else "",
        department_id=department_id,
        before=json.loads(canonical(before)) if before is not None else None,
        after=json.loads(canonical(after)) if after is not None else None,
        ip=ip,
    )
    event.event_hash = _hash_event(event)
    event.save()
    return event


def merkle_root(hashes: list[str]) -> str:
    if not hashes:
        return GENESIS
    level = [bytes.fromhex(h) for h in hashes]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [bytes.fromhex(sm3_hex(level[i] + level[i + 1])) for i in range(0, len(level), 2)]
    return level[0].hex()


def block_hash(number: int, prev_hash: str, root: str) -> str:
    return sm3_hex(f"{number}|{prev_hash}|{root}".encode())


def seal_pending() -> int:
    """Seal unsealed events into blocks; returns how many events were sealed."""
    sealed = 0
    while True:
        with transaction.atomic():
            last = AuditBlock.objects.select_for_update().order_by("-number").first()
            events = list(
                AuditEvent.objects.filter(block__isnull=True)
                .order_by("id")
                .values_list("id", "event_hash")[:BLOCK_SIZE]
            )
            if not events:
                return sealed
            number = (last.number + 1) if last else 1
            prev = last.block_hash if last else GENESIS
            root = merkle_root([h for _, h in events])
            block = AuditBlock.objects.create(
                number=number,
                prev_hash=prev,
                merkle_root=root,
                block_hash=block_hash(number, prev, root),
                event_ids=[i for i, _ in events],
            )
            AuditEvent.objects.filter(id__in=[i for i, _ in events]).update(block=block)
            sealed += len(events)


@dataclass(frozen=True)
class Finding:
    kind: str
    ref: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}: {self.detail}"


def verify() -> list[Finding]:
    """Recompute every event hash, Merkle root and block link; list every mismatch."""
    findings: list[Finding] = []
    stored: dict[int, str] = {}
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if _hash_event(event) != event.event_hash:
            findings.append(Finding("event", f"#{event.id}", "content does not match its hash"))
        stored[event.id] = event.event_hash
    members: dict[int, list[int]] = {}
    for event_id, block_id in AuditEvent.objects.exclude(block__isnull=True).values_list(
        "id", "block_id"
    ):
        members.setdefault(block_id, []).append(event_id)
    prev = GENESIS
    expected_number = 1
    for block in AuditBlock.objects.order_by("number").iterator(chunk_size=200):
        ref = f"#{block.number}"
        if block.number != expected_number:
            findings.append(Finding("block", f"#{expected_number}", "block missing"))
        expected_number = block.number + 1
        if block.prev_hash != prev:
            findings.append(Finding("block", ref, "does not link to the previous block"))
        ids = list(block.event_ids)
        missing = [i for i in ids if i not in stored]
        for i in missing:
            findings.append(Finding("event", f"#{i}", f"deleted from block {ref}"))
        linked = set(members.get(block.number, []))
        for i in ids:
            if i in stored and i not in linked:
                findings.append(Finding("event", f"#{i}", f"unlinked from block {ref}"))
        strangers = sorted(linked - set(ids))
        for i in strangers:
            findings.append(Finding("event", f"#{i}", f"claims block {ref} but is not in it"))
        root = merkle_root([stored.get(i, GENESIS) for i in ids])
        if root != block.merkle_root:
            findings.append(Finding("block", ref, "Merkle root does not match its events"))
        if block_hash(block.number, block.prev_hash, block.merkle_root) != block.block_hash:
            findings.append(Finding("block", ref, "block hash does not match its content"))
        prev = block.block_hash
    return findings
