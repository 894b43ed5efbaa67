import pytest


@pytest.fixture(autouse=True)
def _audit_guard_in_transactional_tests(request):
    """Transactional tests end with a flush, which the insert-only audit triggers refuse."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        yield
        return
    from django.db import connection

    from yiwang.audit import guard

    guard.install(connection)
    yield
    guard.remove(connection)
