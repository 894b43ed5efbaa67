import pytest
from django.core.management import call_command
from django.db import transaction

from yiwang.audit import services as audit
from yiwang.audit.models import AuditEvent
from yiwang.common.schedule import JOBS
from yiwang.notify import senders, services
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_apps_register_their_periodic_jobs():
    assert {"audit.seal", "notify.outbox"} <= JOBS.keys()


def test_worker_batch_seals_audit_and_delivers_outbox(transactional_db):
    """Transactional: the worker opens and closes its own connections."""
    senders.ConsoleSmsSender.sent.clear()
    with transaction.atomic():
        audit.record(None, "test.change", object_type="thing", object_id="1")
        services.enqueue_sms("13800000001", "hello", "t:1")
    call_command("worker", batch=True)
    assert not AuditEvent.objects.filter(block__isnull=True).exists()
    assert OutboxMessage.objects.get().sent_at is not None


def test_healthz_is_json_with_charset(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"status": "ok"}
