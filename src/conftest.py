import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many accounts; PBKDF2's deliberate slowness only costs time there."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(autouse=True)
def _future_calendar(request):
    """Deadlines computed from today reach years the built-in table does not know yet (from
    mid-December, into next year): every test but the calendar's own gets the test years."""
    if "calendar" in request.node.path.parts:
        yield
        return
    from pathlib import Path

    from django.test import override_settings

    calendar = Path(__file__).parent / "yiwang/cases/tests/future-calendar.yaml"
    with override_settings(YIWANG_CALENDAR_FILE=str(calendar)):
        yield
