import json

import pytest
from django.db import transaction
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from yiwang.api.idempotency import idempotent
from yiwang.audit import services as audit
from yiwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
factory = APIRequestFactory()


class CreateThing(APIView):
    permission_classes = [AllowAny]

    @idempotent
    def post(self, request):
        if not request.data.get("name"):
            return Response({"name": ["必填"]}, status=400)
        with transaction.atomic():
            event = audit.record(None, "thing.create", object_type="thing", object_id="1")
        created = {"id": event.pk, "name": request.data["name"], "on": event.created_at.date()}
        return Response(created, status=201)


def post(body: dict, key: str | None = "k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return CreateThing.as_view()(factory.post("/things", body, format="json", **headers)).render()


def test_same_key_same_body_returns_the_first_answer_and_creates_once():
    first, second = post({"name": "a"}), post({"name": "a"})
    assert (first.status_code, second.status_code) == (201, 201)
    # Dates stored as the renderer wrote them (PostgreSQL may reorder the keys).
    assert json.loads(second.content) == json.loads(first.content)
    assert second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="thing.create").count() == 1


def test_same_key_other_body_is_a_conflict():
    post({"name": "a"})
    response = post({"name": "b"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.filter(action="thing.create").count() == 1


def test_failed_request_does_not_use_up_the_key():
    assert post({}).status_code == 400
    assert post({"name": "a"}).status_code == 201


def test_without_a_key_every_post_creates():
    post({"name": "a"}, key=None)
    post({"name": "a"}, key=None)
    assert AuditEvent.objects.filter(action="thing.create").count() == 2


def test_overlong_key_is_refused():
    assert post({"name": "a"}, key="x" * 256).status_code == 400


def test_a_request_still_running_makes_a_repeat_wait():
    from yiwang.api.models import IdempotencyKey

    first = post({"name": "a"}, key="k-2")
    IdempotencyKey.objects.filter(key="k-2").update(status_code=None, response_body=None)
    response = post({"name": "a"}, key="k-2")
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="thing.create").count() == 1
    assert first.status_code == 201
