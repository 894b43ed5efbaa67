"""督办: an overdue step goes to the department lead, then to the platform supervisor."""

import datetime as dt

import pytest

from yiwang.hotline import deadlines, services
from yiwang.hotline.models import Escalation, Ticket
from yiwang.notify.models import Message
from yiwang.notify.services import deliver_due

pytestmark = pytest.mark.django_db
S = Ticket.Status


def _overdue(ticket: Ticket, hours: float) -> dt.datetime:
    """Make the ticket's current step overdue; return a 'now' that many hours later."""
    due = ticket.due_at - dt.timedelta(days=30)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=due)
    return deadlines.deadline(due, hours, "hours")


def _told(user) -> list[str]:
    """In-app messages the user has received once the worker delivered the outbox."""
    deliver_due()
    return list(Message.objects.filter(user=user).values_list("title", flat=True))


def test_an_overdue_signing_goes_to_the_lead_then_to_the_supervisor(world, settings):
    settings.YIWANG_HOTLINE_ESCALATE_HOURS = 7
    ticket = world.ticket_in(S.DISPATCHED)
    now = _overdue(ticket, 1)
    assert services.escalate_overdue(now=now) == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    first = Escalation.objects.get()
    assert (first.step, first.level) == ("sign", 1)
    assert any("超期督办" in t for t in _told(world.department_lead))
    assert not _told(world.supervisor)
    assert services.escalate_overdue(now=now) == 0  # once per level
    later = deadlines.deadline(ticket.due_at, 7.5, "hours")
    assert services.escalate_overdue(now=later) == 1
    assert Ticket.objects.get(pk=ticket.pk).escalation_level == 2
    assert any("超期督办" in t for t in _told(world.supervisor))
    assert services.escalate_overdue(now=later + dt.timedelta(days=30)) == 0


def test_the_centres_own_overdue_steps_go_to_its_dispatchers(world):
    ticket = world.ticket_in(S.REGISTERED)
    assert services.escalate_overdue(now=_overdue(ticket, 1)) == 1
    assert Escalation.objects.get().step == "dispatch"
    assert _told(world.dispatcher) and not _told(world.department_lead)


def test_a_new_step_starts_without_escalation(world):
    ticket = world.ticket_in(S.DISPATCHED)
    services.escalate_overdue(now=_overdue(ticket, 1))
    ticket = world.do(ticket, "sign")
    assert ticket.escalation_level == 0 and ticket.due_at == ticket.handle_due


def test_tickets_on_time_or_finished_are_left_alone(world):
    on_time = world.ticket_in(S.SIGNED)
    closed = world.ticket_in(S.CLOSED)
    Ticket.objects.filter(pk=closed.pk).update(due_at=on_time.due_at - dt.timedelta(days=30))
    assert services.escalate_overdue(now=on_time.due_at - dt.timedelta(minutes=1)) == 0
    assert not Escalation.objects.exists()
