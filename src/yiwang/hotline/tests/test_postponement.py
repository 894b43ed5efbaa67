"""延期: the lead department asks for more working days; a centre dispatcher decides."""

import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.hotline import deadlines, services
from yiwang.hotline.models import Postponement, Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


def test_an_approved_postponement_moves_the_handling_deadline(world):
    ticket = world.ticket_in(S.SIGNED)
    request = services.request_postponement(world.department_staff, ticket, 2, "需更换整条线路")
    assert request.status == Postponement.Status.PENDING and request.old_due == ticket.handle_due
    decided = services.decide_postponement(world.dispatcher, request, approve=True)
    ticket.refresh_from_db()
    assert decided.status == Postponement.Status.APPROVED
    assert ticket.handle_due == deadlines.deadline(request.old_due, 2, "days") == decided.new_due
    assert ticket.due_at == ticket.handle_due and ticket.postponed_days == decimal.Decimal(2)
    assert [e.action for e in ticket.events.all()][-2:] == ["postpone", "postpone_decided"]


def test_a_refusal_needs_a_reason_and_changes_no_deadline(world):
    ticket = world.ticket_in(S.SIGNED)
    request = services.request_postponement(world.department_staff, ticket, "0.5", "等待配件")
    with pytest.raises(ValidationError) as err:
        services.decide_postponement(world.dispatcher, request, approve=False)
    assert "note" in err.value.message_dict
    services.decide_postponement(world.dispatcher, request, approve=False, note="可先临时照明")
    ticket.refresh_from_db()
    assert ticket.handle_due == request.old_due and ticket.postponed_days == 0


def test_one_pending_request_at_a_time_and_each_is_decided_once(world):
    ticket = world.ticket_in(S.SIGNED)
    request = services.request_postponement(world.department_staff, ticket, 1, "理由")
    with pytest.raises(ValidationError):
        services.request_postponement(world.department_staff, ticket, 1, "再次申请")
    services.decide_postponement(world.dispatcher, request, approve=True)
    with pytest.raises(ValidationError):
        services.decide_postponement(world.dispatcher, request, approve=True)
    assert Postponement.objects.count() == 1


@pytest.mark.parametrize(
    "days, reason, field",
    [
        (0, "理由", "days"),
        ("0.3", "理由", "days"),
        ("1.3", "理由", "days"),
        ("NaN", "理由", "days"),
        ("Infinity", "理由", "days"),
        (31, "理由", "days"),
        ("两天", "理由", "days"),
        (2, " ", "reason"),
    ],
)
def test_bad_requests_are_refused(world, days, reason, field):
    ticket = world.ticket_in(S.SIGNED)
    with pytest.raises(ValidationError) as err:
        services.request_postponement(world.department_staff, ticket, days, reason)
    assert field in err.value.message_dict
    assert not Postponement.objects.exists()


def test_only_the_lead_department_asks_and_only_a_dispatcher_decides(world):
    ticket = world.ticket_in(S.SIGNED)
    for outsider in (world.other_department, world.operator, world.citizen):
        with pytest.raises(PermissionDenied):
            services.request_postponement(outsider, ticket, 1, "理由")
    request = services.request_postponement(world.department_staff, ticket, 1, "理由")
    for outsider in (world.department_lead, world.operator, world.checker):
        with pytest.raises(PermissionDenied):
            services.decide_postponement(outsider, request, approve=True)
    assert Postponement.objects.get().status == Postponement.Status.PENDING


def test_no_postponement_outside_handling(world):
    with pytest.raises(ValidationError) as err:
        services.request_postponement(world.department_staff, world.ticket_in(S.DISPATCHED), 1, "x")
    assert "status" in err.value.message_dict
