"""`Idempotency-Key` for POSTs that create things (DESIGN.md "Idempotency").

The key's row is written in the same transaction as the object the request
creates, so a crash loses both or neither; a concurrent repeat waits on the
unique index and then gets the stored answer.
"""

import functools
import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.api.errors import problem_response
from yiwang.api.models import IdempotencyKey

HEADER = "Idempotency-Key"


def _scope(request: Request) -> str:
    user = request.user
    return f"user:{user.pk}" if user and user.is_authenticated else "anonymous"


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        return problem_response(
            409,
            "幂等键已用于另一个请求",
            detail="同一个 Idempotency-Key 只能用于同一个请求;请为新的请求生成新的键。",
            code="idempotency-conflict",
        )
    response = Response(stored.response_body, status=stored.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


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
        scope, fingerprint = _scope(request), _fingerprint(request)
        stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if stored:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyKey.objects.create(
                        scope=scope,
                        key=key,
                        request_hash=fingerprint,
                        status_code=response.status_code,
                        response_body=response.data,
                    )
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    return wrapper
