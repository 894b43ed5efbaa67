"""The demo 12345 centre has a year of history to learn from and open tickets in every
state, made through the import and the closed loop's own services, once."""

import datetime as dt
import random
from collections import Counter

import pytest
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.calendar.overrides import current_overrides
from yiwang.crypto.fields import blind_index
from yiwang.demo import hotline, loader
from yiwang.demo.hotline_tickets import (
    ZHANG_SAN,
    WorkClock,
    load_tickets,
    phrases,
)
from yiwang.hotline import deadlines, routing, selectors
from yiwang.hotline.areas import contains
from yiwang.hotline.models import (
    CLOSED_STATUSES,
    Call,
    Escalation,
    FollowUp,
    Postponement,
    RoutingModel,
    Ticket,
    TicketEvent,
    TicketFile,
)

pytestmark = pytest.mark.django_db
HISTORY = 800


def leaf_codes() -> set[str]:
    rows = hotline.category_rows()
    parents = {row.get("parent") for row in rows}
    return {row["code"] for row in rows if row["code"] not in parents}


def test_every_leaf_category_has_caller_phrasings_results_and_a_street_for_each_place():
    data = phrases()
    assert set(data["categories"]) == leaf_codes()
    for code, entry in data["categories"].items():
        assert len(entry["texts"]) >= 4, code
        assert entry["results"], code
        if "consult" in entry["kinds"] and entry["kinds"]["consult"] >= 5:
            assert entry.get("answers"), f"{code}: consultations need answers"
    streets = {
        f["properties"]["code"] for f in hotline.area_features() if f["properties"]["parent"]
    }
    assert set(data["streets"]) <= streets
    for group in data["confusions"]:
        assert set(group["categories"]) <= leaf_codes()


def test_the_work_clock_agrees_with_the_deadline_rules():
    overrides = current_overrides()
    today = timezone.localdate()
    clock = WorkClock(today - dt.timedelta(days=400), today + dt.timedelta(days=30), overrides)
    rng = random.Random(7)
    now = timezone.now().replace(microsecond=0)
    limits = [(2, "hours"), (3.5, "hours"), (0.5, "days"), (1, "days"), (5, "days"), (10, "days")]
    for _ in range(400):
        start = now - dt.timedelta(seconds=rng.randint(0, 380 * 86400))
        amount, unit = rng.choice(limits)
        assert clock.deadline(start, amount, unit) == deadlines.deadline(
            start, amount, unit, overrides
        ), (start, amount, unit)


@pytest.fixture
def city(settings):
    """The demo departments, staff, citizens, categories and streets (no cases)."""
    settings.YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS = 0
    loader.load_departments()
    loader.load_accounts()
    hotline.load_categories()
    hotline.load_areas()
    routing.forget()
    yield
    routing.forget()


def _rows() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "calls": Call.objects.count(),
        "files": TicketFile.objects.count(),
        "models": RoutingModel.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_the_demo_has_history_and_open_tickets_in_every_state_and_loads_once(city):
    report = load_tickets(history=HISTORY)
    assert report.history.tickets == HISTORY
    missing = set(Ticket.Status.values) - set(report.statuses)
    assert not missing, f"open demo tickets lack {missing}"
    assert "routing trained" in str(report)

    before = _rows()
    again = load_tickets(history=HISTORY)
    assert again.counts["created"] == 0 and "already loaded" in str(again)
    assert _rows() == before

    _history_is_varied_and_consistent()
    _open_tickets_show_every_situation()
    _street_lights_are_routed_to_the_city_management_bureau()


def _history_is_varied_and_consistent() -> None:
    closed = Ticket.objects.filter(status=Ticket.Status.CLOSED)
    year_ago = timezone.now() - dt.timedelta(days=367)
    assert not Ticket.objects.filter(created_at__lt=year_ago).exists(), "the past 12 months"
    assert not closed.filter(closed_at__gt=timezone.now()).exists()
    assert closed.filter(objections__gt=0).exists(), "some were dispatched wrongly first"
    assert closed.filter(returns__gt=0).exists(), "some were sent back after a follow-up"
    assert closed.filter(repeat_of__isnull=False).exists(), "callers call again"
    assert closed.filter(satisfaction__gte=4).exists(), "not everyone is satisfied"
    assert (
        closed.filter(signed_on_time=False).exists()
        and closed.filter(handled_on_time=False).exists()
    )
    for ticket in closed.exclude(sign_due=None)[:200]:
        assert ticket.signed_on_time == (ticket.signed_at <= ticket.sign_due)
        assert ticket.handled_on_time == (ticket.handled_at <= ticket.handle_due)
    hours = Counter(timezone.localtime(t).hour for t in closed.values_list("created_at", flat=True))
    assert hours[10] > hours[3] * 5, "the hotline is busiest in office hours"
    for ticket in closed.exclude(area=None).select_related("area")[:200]:
        assert contains(ticket.area.geometry, float(ticket.longitude), float(ticket.latitude))
    calls = Call.objects.count()
    assert HISTORY * 1.3 < calls < HISTORY * 1.7
    answered = Call.objects.exclude(answered_at=None).count() / calls
    assert 0.85 < answered < 0.97, f"接通率 {answered:.0%}"
    earlier = list(selectors.caller_history(ZHANG_SAN, limit=20))
    assert len(earlier) >= 6, "张三 has called before"
    assert all(t.reporter and t.reporter.phone == ZHANG_SAN for t in earlier)


def _open_tickets_show_every_situation() -> None:
    now = timezone.now()
    open_ = Ticket.objects.exclude(status__in=CLOSED_STATUSES)
    assert open_.filter(due_at__lt=now).exists(), "some are overdue"
    assert open_.filter(warn_at__lt=now, due_at__gt=now).exists(), "some are in the yellow"
    levels = set(Escalation.objects.values_list("level", flat=True))
    assert levels == {1, 2}, "overdue steps are escalated to the lead, then the supervisor"
    assert Postponement.objects.filter(status=Postponement.Status.PENDING).count() == 1
    assert {"approved", "refused"} <= set(Postponement.objects.values_list("status", flat=True))
    photos = TicketFile.objects.all()
    assert photos.filter(kind=TicketFile.Kind.PHOTO).exists()
    assert photos.filter(kind=TicketFile.Kind.RESULT).exists()
    with photos.first().file.open("rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    zhang = Ticket.objects.filter(reporter_phone_index=blind_index(ZHANG_SAN, "phone"))
    assert zhang.filter(status=Ticket.Status.HANDLED, reporter__real_name="张三").exists(), (
        "张三 can rate a handled ticket of his on the portal"
    )
    assert zhang.filter(status=Ticket.Status.REPORTED, files__kind=TicketFile.Kind.PHOTO).exists()
    assert Ticket.objects.filter(status=Ticket.Status.SIGNED, reopens=1).exists()
    assert Ticket.objects.filter(status=Ticket.Status.SIGNED, returns=1).exists()
    assert Ticket.objects.filter(status=Ticket.Status.DISPATCHED, objections=1).exists()


def _street_lights_are_routed_to_the_city_management_bureau() -> None:
    city_management = "示范市城市管理局"
    for text in [
        "东湖路128号门口的路灯连续三个晚上不亮了,黑乎乎的",
        "我们小区门口的路灯坏了,晚上走路看不见",
        "湖滨路上有好几盏路灯不亮",
    ]:
        assert routing.suggest(text)[0].department_name == city_management, text
    registered = Ticket.objects.filter(category__code="0101").exclude(registered_at=None)
    suggested = registered.exclude(suggested_department=None).select_related("suggested_department")
    assert suggested.exists()
    assert {t.suggested_department.name for t in suggested} == {city_management}
