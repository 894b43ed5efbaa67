import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path, script_src",
    [
        ("/", "script-src 'self';"),
        ("/accounts/login/", "script-src 'self';"),
        ("/api/v1/departments/", "script-src 'self';"),
        ("/api/docs/", "script-src 'self' 'unsafe-inline'"),
    ],
)
def test_every_response_carries_a_content_security_policy(client, path, script_src):
    response = client.get(path, HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert script_src in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
