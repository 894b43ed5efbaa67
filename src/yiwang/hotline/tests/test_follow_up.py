"""回访: the reporter says whether it was solved and rates it (the five 好差评 levels).
Satisfied closes the ticket; unsatisfied sends it back to the department once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.hotline import services
from yiwang.hotline.models import FollowUp, Ticket
from yiwang.identity.tests.factories import CitizenFactory
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db
S = Ticket.Status


def _rate(ticket, actor, **kwargs):
    data = {"channel": "web", "solved": True, "level": 2, "comment": ""} | kwargs
    return services.follow_up(actor, ticket, **data)


def test_handling_sends_the_reporter_a_rating_link(world):
    ticket = world.ticket_in(S.HANDLED)
    sms = OutboxMessage.objects.get(channel="sms", topic="hotline.handle")
    assert services.follow_up_path(ticket).split("/")[3] and "/hotline/r/" in sms.payload


@pytest.mark.parametrize(
    "status, solved, level, outcome, final",
    [
        (S.HANDLED, True, 1, "closed", S.CLOSED),  # the reporter's answer is the check
        (S.CHECKED, True, 3, "closed", S.CLOSED),  # 基本满意 still counts as satisfied
        (S.HANDLED, False, 2, "returned", S.SIGNED),  # not solved: back to the department
        (S.CHECKED, True, 4, "returned", S.SIGNED),  # solved but 不满意
    ],
)
def test_the_answer_decides_the_next_step(world, status, solved, level, outcome, final):
    ticket = world.ticket_in(status)
    entry = _rate(ticket, world.citizen, solved=solved, level=level)
    ticket.refresh_from_db()
    assert entry.outcome == outcome and ticket.status == final
    assert ticket.satisfaction == level and ticket.solved is solved
    assert ticket.returns == (1 if outcome == "returned" else 0)
    if final == S.CLOSED:
        assert ticket.closed_at is not None and ticket.checked_at is not None
        assert not ticket.events.filter(action="close", actor=world.department_staff).exists()


def test_unsatisfied_goes_back_only_once_then_closes_as_unsatisfied(world):
    ticket = world.ticket_in(S.HANDLED)
    _rate(ticket, world.citizen, solved=False, level=5, comment="路灯还是不亮")
    ticket = world.do(ticket, "handle", result="更换了线路")
    second = _rate(ticket, world.citizen, solved=False, level=5)
    ticket.refresh_from_db()
    assert second.outcome == FollowUp.Outcome.CLOSED
    assert ticket.status == S.CLOSED and ticket.returns == 1 and ticket.satisfaction == 5


def test_the_sms_link_lets_the_holder_rate_without_an_account(world):
    ticket = world.ticket_in(S.HANDLED, actor=None, reporter_phone="13900000001")
    token = services.follow_up_token(ticket)
    assert services.ticket_for_token(token) == ticket
    entry = services.follow_up(None, ticket, channel="sms", solved=True, level=1, token=token)
    assert entry.by is None and Ticket.objects.get(pk=ticket.pk).status == S.CLOSED


@pytest.mark.parametrize("token", ["", "forged:token", "other"])
def test_without_the_reporter_or_a_valid_link_nobody_rates(world, token):
    ticket = world.ticket_in(S.HANDLED)
    if token == "other":
        token = services.follow_up_token(world.report())
    with pytest.raises(PermissionDenied):
        services.follow_up(
            CitizenFactory(), ticket, channel="sms", solved=True, level=1, token=token
        )
    with pytest.raises(PermissionDenied):
        _rate(ticket, world.department_staff)
    assert not FollowUp.objects.exists()


def test_an_expired_link_names_no_ticket(world, settings):
    ticket = world.ticket_in(S.HANDLED)
    token = services.follow_up_token(ticket)
    settings.YIWANG_RATING_PERIOD_DAYS = -1
    assert services.ticket_for_token(token) is None


def test_operators_record_phone_follow_ups_including_calls_nobody_answered(world):
    ticket = world.ticket_in(S.CHECKED)
    missed = services.follow_up(world.operator, ticket, channel="phone", reached=False)
    ticket.refresh_from_db()
    assert missed.outcome == FollowUp.Outcome.NOT_REACHED and ticket.status == S.CHECKED
    assert ticket.followed_up_at is None
    with pytest.raises(PermissionDenied):
        services.follow_up(world.citizen, ticket, channel="phone", solved=True, level=1)
    services.follow_up(world.operator, ticket, channel="phone", solved=True, level=2)
    assert Ticket.objects.get(pk=ticket.pk).status == S.CLOSED
    assert AuditEvent.objects.filter(action="hotline.close", object_id=str(ticket.pk)).exists()


@pytest.mark.parametrize(
    "status, change, field",
    [
        (S.HANDLED, {"level": 6}, "level"),
        (S.HANDLED, {"level": "满意"}, "level"),
        (S.HANDLED, {"level": True}, "level"),
        (S.HANDLED, {"solved": None}, "solved"),
        (S.HANDLED, {"comment": "长" * 2001}, "comment"),
        (S.HANDLED, {"channel": "fax"}, "channel"),
        (S.HANDLED, {"reached": False}, "reached"),  # only a phone call can miss
        (S.SIGNED, {}, "status"),
        (S.CLOSED, {}, "status"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(world, status, change, field):
    ticket = world.ticket_in(status)
    with pytest.raises(ValidationError) as err:
        _rate(ticket, world.citizen, **change)
    assert field in err.value.message_dict
    assert not FollowUp.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == status
