import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

factory = APIRequestFactory()


def view_raising(exc: Exception):
    class Failing(APIView):
        permission_classes = [AllowAny]

        def get(self, request):
            raise exc

    return Failing.as_view()


@pytest.mark.parametrize(
    "exc, status, errors",
    [
        (
            exceptions.ValidationError({"id_number": ["校验码不正确"]}),
            400,
            {"id_number": ["校验码不正确"]},
        ),
        (DjangoValidationError({"phone": "该手机号已注册"}), 400, {"phone": ["该手机号已注册"]}),
        (DjangoValidationError("时限不合法"), 400, {"non_field_errors": ["时限不合法"]}),
        (exceptions.NotFound(), 404, None),
        (exceptions.PermissionDenied(), 403, None),
        (RuntimeError("boom"), 500, None),
    ],
)
def test_errors_are_problem_details(exc, status, errors):
    response = view_raising(exc)(factory.get("/x")).render()
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.data
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body.get("errors") == errors


def test_json_responses_declare_utf8(client, db):
    response = client.get("/api/v1/departments/", HTTP_HOST="127.0.0.1")
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_a_number_too_large_for_the_database_is_a_400_not_a_500():
    response = view_raising(OverflowError("Python int too large"))(factory.get("/x")).render()
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
