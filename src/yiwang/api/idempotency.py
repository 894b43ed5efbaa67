"""`Idempotency-Key` for POSTs that create things (DESIGN.md "Idempotency").

The key is reserved in a short transaction of its own before the view runs,
so the view's services keep their own transactions (a security counter that
must survive a refused request, such as wrong SMS-code attempts, is not rolled
back by us). A concurrent repeat finds the reservation and is told to retry;
a success stores its answer on the key; a failure releases the key. A
reservation left by a crashed process may be taken over after `STALE_AFTER`.
"""

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from yiwang.api.errors import problem_response
from yiwang.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
STALE_AFTER = dt.timedelta(minutes=5)


def _scope(request: Request) -> str:
    user = request.user
    return f"user:{user.pk}" if user and user.is_authenticated else "anonymous"


def _fingerprint(request: Request) -> str:
    """Hash of the request; a multipart body is hashed by its parsed parts, because
    Django refuses to hold a body above DATA_UPLOAD_MAX_MEMORY_SIZE (uploads stream)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type.startswith("multipart/form-data"):
        fields = sorted((k, v) for k in request.POST for v in request.POST.getlist(k))
        digest.update(json.dumps(fields, ensure_ascii=False).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"\n{name}={upload.name}:{upload.size}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _conflict(detail: str) -> Response:
    return problem_response(409, "幂等键冲突", detail=detail, code="idempotency-conflict")


def _reserve(scope: str, key: str, fingerprint: str) -> IdempotencyKey | Response:
    """The reservation to fill in, or the answer to give right away."""
    with transaction.atomic():
        stored = IdempotencyKey.objects.select_for_update().filter(scope=scope, key=key).first()
        if stored is None:
            try:
                with transaction.atomic():
                    return IdempotencyKey.objects.create(
                        scope=scope, key=key, request_hash=fingerprint
                    )
            except IntegrityError:
                stored = IdempotencyKey.objects.get(scope=scope, key=key)
        if stored.request_hash != fingerprint:
            return _conflict("同一个 Idempotency-Key 只能用于同一个请求;请为新的请求生成新的键。")
        if stored.status_code is not None:
            response = Response(stored.response_body, status=stored.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        if stored.created_at > timezone.now() - STALE_AFTER:
            return _conflict("同一个请求正在处理中,请稍后再试。")
        stored.created_at = timezone.now()
        stored.save(update_fields=["created_at"])
        return stored


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a DRF view method (e.g. `create`) to honour the Idempotency-Key header."""

    @functools.wraps(view_method)
    def wrapper(self, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > 255:
            return problem_response(
                400,
                "Idempotency-Key 过长",
                detail="Idempotency-Key 最长 255 个字符。",
                code="validation",
            )
        reservation = _reserve(_scope(request), key, _fingerprint(request))
        if isinstance(reservation, Response):
            return reservation
        try:
            response = view_method(self, request, *args, **kwargs)
        except BaseException:
            reservation.delete()
            raise
        if 200 <= response.status_code < 300:
            reservation.status_code = response.status_code
            # As the renderer would write it (dates, decimals, UUIDs), so it can always be stored.
            reservation.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            reservation.save(update_fields=["status_code", "response_body"])
        else:
            reservation.delete()
        return response

    return wrapper
