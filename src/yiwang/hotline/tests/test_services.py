"""The closed loop follows TRANSITIONS exactly; each party may do only its steps."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.hotline import services
from yiwang.hotline.models import Category, Ticket
from yiwang.hotline.tests.factories import PATHS, PLAYERS
from yiwang.identity.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status


def _new(world, kind=Ticket.Kind.HELP) -> Ticket:
    return world.report(kind=kind)


def _do(world, ticket, action, party, **kwargs):
    return world.do(ticket, action, PLAYERS.get(party, party), **kwargs)


def _party(action: str) -> str:
    return sorted(services.TRANSITIONS[action].parties - {services.FOLLOW_UP})[0]


def _ticket_in(world, status) -> Ticket:
    return world.ticket_in(status)


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("action", list(services.TRANSITIONS))
def test_every_action_from_every_status_follows_the_table(world, status, action):
    ticket = _ticket_in(world, status)
    transition = services.TRANSITIONS[action]
    party = _party(action)
    kwargs = {}
    if action == "merge":
        kwargs["into"] = _new(world)
    if action == "answer":
        ticket.kind = Ticket.Kind.CONSULT
        ticket.save(update_fields=["kind"])
    if status not in transition.sources:
        with pytest.raises(ValidationError) as err:
            _do(world, ticket, action, party, **kwargs)
        assert "当前状态" in str(err.value)
        ticket.refresh_from_db()
        assert ticket.status == status
        return
    ticket = _do(world, ticket, action, party, **kwargs)
    assert ticket.status == transition.target
    assert ticket.events.last().action == action
    assert AuditEvent.objects.filter(action=f"hotline.{action}", object_id=str(ticket.pk)).exists()


@pytest.mark.parametrize(
    "action, status, wrong_party",
    [
        ("register", S.REPORTED, "department_staff"),
        ("dispatch", S.REGISTERED, "operator"),
        ("dispatch", S.REGISTERED, "department_staff"),
        ("sign", S.DISPATCHED, "other_department"),
        ("sign", S.DISPATCHED, "operator"),
        ("handle", S.SIGNED, "other_department"),
        ("close", S.CHECKED, "department_staff"),
        ("check", S.HANDLED, "citizen"),
        ("check", S.HANDLED, "department_staff"),
        ("verify", S.REPORTED, "department_staff"),
        ("reopen", S.CLOSED, "operator"),
        ("return", S.HANDLED, "department_staff"),
    ],
)
def test_only_the_right_party_may_act(world, action, status, wrong_party):
    ticket = _ticket_in(world, status)
    with pytest.raises(PermissionDenied):
        services.act(world[wrong_party], ticket, action, note="x", result="x")


def test_a_department_cannot_close_its_own_ticket_without_a_check(world):
    ticket = _ticket_in(world, S.HANDLED)
    with pytest.raises(ValidationError) as err:
        services.act(world["department_staff"], ticket, "close")
    assert "待核查" in str(err.value)
    ticket = _do(world, ticket, "check", "operator")
    with pytest.raises(PermissionDenied):
        services.act(world["department_staff"], ticket, "close")


def test_dispatch_sets_the_lead_from_the_catalogue_and_a_signing_deadline(world):
    ticket = _ticket_in(world, S.DISPATCHED)
    assert ticket.lead_department == world["department"]
    assert ticket.sign_due > ticket.dispatched_at
    ticket = _do(world, ticket, "sign", "department")
    assert ticket.handle_due.date() >= ticket.signed_at.date()


def test_an_objection_returns_the_ticket_for_redispatch_and_is_counted(world):
    ticket = _ticket_in(world, S.DISPATCHED)
    ticket = _do(world, ticket, "object", "department", note="不属于本部门职责,应由供电公司处理")
    assert ticket.status == S.REGISTERED and ticket.lead_department is None
    assert ticket.objections == 1
    other = DepartmentFactory()
    ticket = _do(world, ticket, "dispatch", "dispatcher", department=other)
    assert ticket.lead_department == other


def test_a_failed_check_sends_it_back_and_counts(world):
    ticket = _ticket_in(world, S.HANDLED)
    ticket = _do(world, ticket, "return", "operator", note="回访反映路灯仍不亮")
    assert ticket.status == S.SIGNED and ticket.returns == 1


@pytest.mark.parametrize("action", ["object", "return", "reject", "reopen", "answer"])
def test_actions_that_need_a_reason_refuse_without_one(world, action):
    status = next(iter(services.TRANSITIONS[action].sources))
    ticket = _ticket_in(world, status)
    if action == "answer":
        ticket.kind = Ticket.Kind.CONSULT
        ticket.save(update_fields=["kind"])
    with pytest.raises(ValidationError) as err:
        _do(world, ticket, action, _party(action), note="  ")
    assert "note" in err.value.message_dict


def test_only_consultations_are_answered_on_the_spot(world):
    ticket = _new(world, kind=Ticket.Kind.COMPLAINT)
    with pytest.raises(ValidationError):
        _do(world, ticket, "answer", "operator", note="已解答")


def test_merging_needs_another_live_ticket(world):
    ticket = _new(world)
    with pytest.raises(ValidationError):
        _do(world, ticket, "merge", "operator", into=ticket)
    ticket = _do(world, ticket, "merge", "operator", into=_new(world))
    assert ticket.merged_into is not None


@pytest.mark.parametrize(
    "change, field",
    [
        ({"channel": "fax"}, "channel"),
        ({"kind": "praise"}, "kind"),
        ({"description": "灯"}, "description"),
        ({"description": "灯" * 5001}, "description"),
        ({"latitude": "north"}, "latitude"),
        ({"latitude": "NaN"}, "latitude"),
        ({"latitude": "1e30"}, "latitude"),
        ({"longitude": "200"}, "longitude"),
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"address": "路" * 201}, "address"),
    ],
)
def test_bad_reports_are_refused_naming_the_field_and_write_nothing(world, change, field):
    args = {
        "channel": "web",
        "kind": "help",
        "description": "路灯不亮已经三天了",
        "category": world["category"],
        **change,
    }
    with pytest.raises(ValidationError) as err:
        services.report(world["citizen"], **args)
    assert field in err.value.message_dict
    assert not Ticket.objects.exists()


def test_a_category_with_children_cannot_be_used(world):
    parent = Category.objects.create(code="03", name="市政设施")
    world["category"].parent = parent
    world["category"].save()
    with pytest.raises(ValidationError) as err:
        services.report(
            world["citizen"],
            channel="web",
            kind="help",
            description="路灯不亮三天了",
            category=parent,
        )
    assert "category" in err.value.message_dict


def test_anonymous_reports_keep_no_contact_and_numbers_count_up(world):
    first = services.report(
        None,
        channel="phone",
        kind="report",
        description="有人在河边倾倒建筑垃圾",
        reporter_name="李四",
        reporter_phone="13800000002",
        is_anonymous=True,
    )
    assert first.reporter_name == "" and first.reporter_phone == "" and first.reporter is None
    second = _new(world)
    assert int(second.number) == int(first.number) + 1
