"""The closed loop follows TRANSITIONS exactly; each party may do only its steps."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.hotline import services
from yiwang.hotline.models import Category, Ticket
from yiwang.identity.tests.factories import CitizenFactory, DepartmentFactory, StaffFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status

# The shortest path from a new ticket to each status, as (action, party) steps.
PATHS = {
    S.REPORTED: [],
    S.VERIFIED: [("verify", "operator")],
    S.REGISTERED: [("register", "operator")],
    S.DISPATCHED: [("register", "operator"), ("dispatch", "dispatcher")],
    S.SIGNED: [("register", "operator"), ("dispatch", "dispatcher"), ("sign", "department")],
    S.HANDLED: [
        ("register", "operator"),
        ("dispatch", "dispatcher"),
        ("sign", "department"),
        ("handle", "department"),
    ],
    S.CHECKED: [
        ("register", "operator"),
        ("dispatch", "dispatcher"),
        ("sign", "department"),
        ("handle", "department"),
        ("check", "operator"),
    ],
    S.CLOSED: [
        ("register", "operator"),
        ("dispatch", "dispatcher"),
        ("sign", "department"),
        ("handle", "department"),
        ("check", "operator"),
        ("close", "dispatcher"),
    ],
}


@pytest.fixture
def world(settings):
    centre = DepartmentFactory(name="示范市12345热线中心")
    settings.YIWANG_HOTLINE_CENTRE = centre.credit_code
    lights = DepartmentFactory(name="示范市城市管理局")
    street = Category.objects.create(code="0301", name="路灯不亮", department=lights)
    return {
        "category": street,
        "department": lights,
        "operator": StaffFactory(department=centre, roles=["intake"]),
        "dispatcher": StaffFactory(department=centre, roles=["decision"]),
        "department_staff": StaffFactory(department=lights, roles=["intake"]),
        "other_department": StaffFactory(department=DepartmentFactory(), roles=["decision"]),
        "citizen": CitizenFactory(),
    }


def _new(world, kind=Ticket.Kind.HELP) -> Ticket:
    return services.report(
        world["citizen"],
        channel="web",
        kind=kind,
        description="东湖路 12 号门口的路灯连续三晚不亮",
        category=world["category"],
        address="示范市东城区东湖路 12 号",
        latitude="26.074",
        longitude="119.296",
        reporter_name="张三",
        reporter_phone="13800000001",
    )


def _do(world, ticket, action, party, **kwargs):
    actor = world["department_staff"] if party == "department" else world[party]
    defaults = {"note": "理由", "result": "已更换灯泡,路灯恢复照明"}
    return services.act(actor, ticket, action, **{**defaults, **kwargs})


def _ticket_in(world, status) -> Ticket:
    ticket = _new(world)
    for action, party in PATHS[status]:
        ticket = _do(world, ticket, action, party)
    assert ticket.status == status
    return ticket


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("action", list(services.TRANSITIONS))
def test_every_action_from_every_status_follows_the_table(world, status, action):
    ticket = _ticket_in(world, status)
    transition = services.TRANSITIONS[action]
    party = "department" if transition.party == "department" else transition.party
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
        _do(world, ticket, action, services.TRANSITIONS[action].party, note="  ")
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


# Category tree ------------------------------------------------------------------------------


@pytest.fixture
def platform_admin():
    from yiwang.identity.tests.factories import PlatformAdminFactory

    return PlatformAdminFactory()


def test_platform_admins_keep_the_category_tree(platform_admin):
    root = services.save_category(platform_admin, {"code": "01", "name": "城市管理"})
    leaf = services.save_category(
        platform_admin,
        {
            "code": "0101",
            "name": "路灯",
            "parent": root,
            "department": DepartmentFactory(),
            "sign_hours": "1.5",
            "handle_days": 3,
        },
    )
    assert leaf.parent == root and str(leaf.sign_hours) == "1.5"
    assert AuditEvent.objects.filter(action="hotline.save_category").count() == 2
    with pytest.raises(ValidationError) as err:
        services.save_category(platform_admin, {"parent": leaf}, instance=root)
    assert "parent" in err.value.message_dict


@pytest.mark.parametrize(
    "data, field",
    [
        ({"code": "A1", "name": "x"}, "code"),
        ({"code": "01", "name": " "}, "name"),
        ({"code": "01", "name": "x", "sign_hours": "0"}, "sign_hours"),
        ({"code": "01", "name": "x", "handle_days": 0}, "handle_days"),
    ],
)
def test_bad_categories_are_refused(platform_admin, data, field):
    with pytest.raises(ValidationError) as err:
        services.save_category(platform_admin, data)
    assert field in err.value.message_dict
    assert not Category.objects.exists()


def test_only_platform_admins_change_the_tree():
    with pytest.raises(PermissionDenied):
        services.save_category(StaffFactory(roles=["admin"]), {"code": "01", "name": "x"})
