"""RFC 9457 problem details for every API error (DESIGN.md API conventions)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("yiwang.api")


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [str(d) for d in detail]
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    return [str(detail)]


def problem_response(
    status_code: int, title: str, detail: str = "", errors: dict | None = None, code: str = ""
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://yiwang.example/problems/{code or status_code}",
        "title": title,
        "status": status_code,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, OverflowError):
        # A number too large for the database (e.g. ?id=99999999999999999999): bad input.
        exc = exceptions.ValidationError(
            {"non_field_errors": ["数值超出允许范围,请检查输入的编号。"]}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # keep the service's reason
    response = exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        set_rollback()
        return problem_response(
            500,
            "服务器内部错误",
            detail="请求未能完成,所有改动均已撤销,请稍后重试。",
            code="server-error",
        )
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        errors = _flatten(detail if isinstance(detail, dict) else {"non_field_errors": detail})
        first = next(iter(errors.values()), [""])
        problem = problem_response(
            400,
            "输入有误",
            detail=first[0] if isinstance(first, list) else str(first),
            errors=errors,
            code="validation",
        )
    else:
        detail = getattr(exc, "detail", "")
        problem = problem_response(
            response.status_code,
            title=str(detail) if not isinstance(detail, dict | list) else "error",
            detail=str(detail),
            code=getattr(exc, "default_code", ""),
        )
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            problem[header] = response[header]
    return problem
