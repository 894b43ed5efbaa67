import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from yiwang.audit import guard, services
from yiwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _guard_installed():
    """A transactional test run earlier on this worker flushes with the guard removed."""
    guard.remove(connection)
    guard.install(connection)


def _events(n: int) -> list[AuditEvent]:
    return [
        services.record(None, "test.change", object_type="thing", object_id=str(i), after={"i": i})
        for i in range(n)
    ]


def test_record_refuses_outside_a_transaction(transactional_db):
    with pytest.raises(services.AuditOutsideTransaction):
        services.record(None, "test.change", object_type="thing", object_id="1")


def test_sealed_chain_verifies():
    _events(7)
    assert services.seal_pending() == 7
    _events(3)
    assert services.seal_pending() == 3
    assert services.verify() == []
    call_command("verify_audit")


def test_triggers_refuse_update_and_delete():
    event = _events(1)[0]
    for statement in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="forged"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            statement()


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda e: AuditEvent.objects.filter(pk=e[2].pk).update(after={"i": 99}), "content"),
        (lambda e: AuditEvent.objects.filter(pk=e[2].pk).delete(), "deleted"),
        (lambda e: AuditEvent.objects.filter(pk=e[2].pk).update(block=None), "unlinked"),
    ],
    ids=["edited", "deleted", "unsealed"],
)
def test_verify_names_the_tampered_row(tamper, expected):
    events = _events(5)
    services.seal_pending()
    guard.remove(connection)
    tamper(events)
    findings = services.verify()
    assert findings, "tampering went unnoticed"
    assert any(expected in f.detail for f in findings)
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_snapshot_masks_encrypted_fields(django_user_model):
    user = django_user_model(username="a", phone="13800138000")
    assert services.snapshot(user, ["phone"]) == {"phone": "1380***8000"}
