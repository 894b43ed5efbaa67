"""Historical tickets from the legacy 12345 system are imported whole, with the figures the
dashboard reads derived as the loop would have kept them, or refused whole with each bad
row named."""

import copy
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.crypto.fields import blind_index
from yiwang.hotline import deadlines, selectors, services
from yiwang.hotline.history import HistoryError, import_history
from yiwang.hotline.models import Area, Call, Category, FollowUp, Ticket, TicketEvent
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "13912345678"
STREET = {
    "type": "Polygon",
    "coordinates": [
        [[119.30, 26.00], [119.40, 26.00], [119.40, 26.10], [119.30, 26.10], [119.30, 26.00]]
    ],
}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2026 (2 March is a Monday), Beijing time."""
    return timezone.make_aware(dt.datetime(2026, 3, day, hour, minute))


class Legacy:
    """The demo city's master data as the legacy export refers to it."""

    def __init__(self):
        self.centre = DepartmentFactory(name="12345 热线中心")
        self.lights = DepartmentFactory(name="城市管理局")
        self.traffic = DepartmentFactory(name="交通运输局")
        root = Category.objects.create(code="01", name="城市管理")
        self.category = Category.objects.create(
            code="0101",
            name="路灯不亮",
            parent=root,
            department=self.lights,
            sign_limit=4,
            sign_unit="hours",
            handle_limit=3,
            handle_unit="days",
        )
        district = Area.objects.create(code="359902", name="东城区")
        self.street = Area.objects.create(
            code="359902001000", name="东湖街道", parent=district, geometry=STREET
        )
        self.operator = StaffFactory(department=self.centre, roles=["intake"])
        self.admin = PlatformAdminFactory()

    def row(self, number: str = "20260302000001", **changes) -> dict:
        """A street-light ticket reported on Monday morning, closed on Wednesday."""
        row = {
            "number": number,
            "channel": "phone",
            "kind": "help",
            "category": "0101",
            "description": "东湖路 12 号门口的路灯连续三晚不亮",
            "address": "示范市东城区东湖路 12 号",
            "latitude": "26.05",
            "longitude": "119.35",
            "reporter_name": "王先生",
            "reporter_phone": PHONE,
            "status": "closed",
            "sign_due": at(2, 13, 30),
            "handle_due": at(5, 17, 30),
            "steps": [
                {"action": "report", "at": at(2, 9), "actor": self.operator.username},
                {"action": "register", "at": at(2, 9, 3), "actor": self.operator.username},
                {"action": "dispatch", "at": at(2, 9, 30), "department": self.lights.credit_code},
                {"action": "sign", "at": at(2, 10)},
                {"action": "handle", "at": at(3, 15), "note": "已更换灯泡,路灯恢复照明"},
                {"action": "check", "at": at(4, 10), "actor": self.operator.username},
                {"action": "close", "at": at(4, 10, 1), "actor": self.operator.username},
            ],
            "follow_ups": [
                {
                    "at": at(4, 10),
                    "channel": "phone",
                    "by": self.operator.username,
                    "reached": True,
                    "solved": True,
                    "level": 1,
                    "outcome": "closed",
                }
            ],
        }
        row.update(changes)
        return row

    def misdispatched(self, number: str = "20260302000002") -> dict:
        """First sent to traffic, which objected; the city-management bureau handled it."""
        row = self.row(number)
        steps = row["steps"]
        row["steps"] = [
            *steps[:2],
            {"action": "dispatch", "at": at(2, 9, 20), "department": self.traffic.credit_code},
            {"action": "object", "at": at(2, 9, 25), "note": "路灯不属于我局职责,请改派城管局"},
            *steps[2:],
        ]
        return row


@pytest.fixture
def legacy():
    return Legacy()


def counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "calls": Call.objects.count(),
        "audit": AuditEvent.objects.filter(action="hotline.import_history").count(),
    }


def test_a_closed_ticket_arrives_with_every_figure_the_dashboard_reads(legacy):
    report = import_history(legacy.admin, [legacy.row()])
    assert (report.tickets, report.events, report.follow_ups) == (1, 7, 1)
    ticket = Ticket.objects.get(number="20260302000001")
    assert ticket.status == Ticket.Status.CLOSED
    assert ticket.created_at == at(2, 9), "reported when it was, not when imported"
    assert (ticket.registered_at, ticket.dispatched_at, ticket.signed_at) == (
        at(2, 9, 3),
        at(2, 9, 30),
        at(2, 10),
    )
    assert (ticket.handled_at, ticket.checked_at, ticket.closed_at) == (
        at(3, 15),
        at(4, 10),
        at(4, 10, 1),
    )
    assert ticket.lead_department == legacy.lights
    assert ticket.category == legacy.category
    assert ticket.area == legacy.street, "the street is found from the point"
    assert ticket.signed_on_time is True and ticket.handled_on_time is True
    assert ticket.result == "已更换灯泡,路灯恢复照明"
    assert (ticket.objections, ticket.returns, ticket.reopens) == (0, 0, 0)
    assert (ticket.followed_up_at, ticket.solved, ticket.satisfaction) == (at(4, 10), True, 1)
    assert ticket.reporter_phone == PHONE
    assert ticket.reporter_phone_index == blind_index(PHONE, "phone")
    assert ticket.created_by == legacy.operator
    assert ticket.due_at is None, "a closed ticket waits for nothing"
    events = list(ticket.events.values_list("action", "from_status", "to_status"))
    assert events[0] == ("report", "", "reported")
    assert events[-1] == ("close", "checked", "closed")
    dispatch = ticket.events.get(action="dispatch")
    assert dispatch.department == legacy.lights
    assert dispatch.seconds == 27 * 60, "time since the previous step, for step durations"


def test_a_misdispatched_ticket_counts_its_objection_and_keeps_the_final_department(legacy):
    import_history(legacy.admin, [legacy.misdispatched()])
    ticket = Ticket.objects.get()
    assert ticket.objections == 1
    assert ticket.lead_department == legacy.lights
    assert ticket.dispatched_at == at(2, 9, 30), "the dispatch that stuck"
    objection = ticket.events.get(action="object")
    assert (objection.from_status, objection.to_status) == ("dispatched", "registered")
    assert objection.department == legacy.traffic, (
        "the department that objected, for its 退单 count"
    )


def test_on_time_flags_compare_each_step_with_its_deadline(legacy):
    late = legacy.row(sign_due=at(2, 9, 45), handle_due=at(3, 12))
    import_history(legacy.admin, [late])
    ticket = Ticket.objects.get()
    assert ticket.signed_on_time is False and ticket.handled_on_time is False


def test_deadlines_the_export_lacks_are_computed_from_the_category_limits(legacy):
    row = legacy.row()
    del row["sign_due"], row["handle_due"]
    import_history(legacy.admin, [row])
    ticket = Ticket.objects.get()
    assert ticket.sign_due == deadlines.deadline(at(2, 9, 30), 4, deadlines.HOURS)
    assert ticket.handle_due == deadlines.deadline(at(2, 10), 3, deadlines.DAYS)
    assert ticket.dispatch_due == deadlines.deadline(at(2, 9), 2, deadlines.HOURS)
    assert ticket.check_due == deadlines.deadline(at(3, 15), 3, deadlines.DAYS)


def test_a_return_after_an_unsatisfied_follow_up_is_counted(legacy):
    row = legacy.row()
    steps = row["steps"]
    row["steps"] = [
        *steps[:5],
        {"action": "return", "at": at(3, 16), "note": "回访:未解决,不满意"},
        {"action": "handle", "at": at(4, 9), "note": "再次上门维修"},
        {"action": "check", "at": at(4, 10)},
        {"action": "close", "at": at(4, 10, 1)},
    ]
    unsatisfied = {**row["follow_ups"][0], "at": at(3, 16), "solved": False, "level": 4}
    row["follow_ups"] = [{**unsatisfied, "outcome": "returned"}, row["follow_ups"][0]]
    import_history(legacy.admin, [row])
    ticket = Ticket.objects.get()
    assert ticket.returns == 1
    assert ticket.handled_at == at(4, 9) and ticket.satisfaction == 1
    assert ticket.handle_due == at(5, 17, 30)
    assert list(ticket.follow_ups.values_list("outcome", flat=True)) == ["returned", "closed"]


def test_answered_and_rejected_tickets_close_without_a_department(legacy):
    answered = legacy.row(
        "20260302000003",
        kind="consult",
        status="answered",
        steps=[
            {"action": "report", "at": at(2, 9)},
            {"action": "answer", "at": at(2, 9, 5), "note": "路灯报修请拨打城管热线"},
        ],
        follow_ups=[],
    )
    rejected = legacy.row(
        "20260302000004",
        status="rejected",
        steps=[
            {"action": "report", "at": at(2, 9)},
            {"action": "reject", "at": at(2, 11), "note": "属民事纠纷,不予立案"},
        ],
        follow_ups=[],
    )
    report = import_history(None, [answered, rejected])
    assert report.by_status == {"answered": 1, "rejected": 1}
    ticket = Ticket.objects.get(number="20260302000003")
    assert ticket.lead_department is None
    assert (ticket.result, ticket.closed_at) == ("路灯报修请拨打城管热线", at(2, 9, 5))


def _out_of_order(row):
    row["steps"][3], row["steps"][2] = row["steps"][2], row["steps"][3]


def _backwards(row):
    row["steps"][4]["at"] = at(2, 8)


def _naive(row):
    row["steps"][1]["at"] = dt.datetime(2026, 3, 2, 9, 3)


def _unknown_department(row):
    row["steps"][2]["department"] = "91000000000000000X"


def _unfinished(row):
    row["steps"] = row["steps"][:4]


def _unknown_key(row):
    row["priority"] = "high"


def _bad_level(row):
    row["follow_ups"][0]["level"] = 7


@pytest.mark.parametrize(
    "spoil, key, words",
    [
        (lambda r: r.update(category="0999"), "tickets[1].category", "没有编码为"),
        (lambda r: r.update(category="01"), "tickets[1].category", "不是末级分类"),
        (lambda r: r.update(description="灯"), "tickets[1].description", "至少 5 个字"),
        (lambda r: r.update(description="灯" * 5001), "tickets[1].description", "最多 5000 字"),
        (lambda r: r.update(reporter_phone="12345"), "tickets[1].reporter_phone", "手机号码"),
        (lambda r: r.update(channel="fax"), "tickets[1].channel", "来源渠道"),
        (lambda r: r.update(status="signed"), "tickets[1].status", "须已办结"),
        (lambda r: r.update(latitude="91"), "tickets[1].latitude", "-90 到 90"),
        (lambda r: r.update(number="20260302000001"), "tickets[1].number", "重复"),
        (lambda r: r.update(sign_due=at(2, 9)), "tickets[1].sign_due", "早于"),
        (_out_of_order, "tickets[1].steps[2].action", "不能执行 sign"),
        (_backwards, "tickets[1].steps[4].at", "早于上一步"),
        (_naive, "tickets[1].steps[1].at", "须带时区"),
        (_unknown_department, "tickets[1].steps[2].department", "统一社会信用代码"),
        (_unfinished, "tickets[1].status", "与状态 closed 不符"),
        (_unknown_key, "tickets[1].priority", "未知字段"),
        (_bad_level, "tickets[1].follow_ups[0].level", "满意度"),
    ],
)
def test_a_bad_row_refuses_the_whole_batch_naming_the_field(legacy, spoil, key, words):
    bad = legacy.row("20260302000009")
    spoil(bad)
    before = counts()
    with pytest.raises(HistoryError) as err:
        import_history(legacy.admin, [legacy.row(), bad])
    assert key in err.value.message_dict, err.value.message_dict
    assert words in " ".join(err.value.message_dict[key])
    assert counts() == before, "nothing written, not even the good row"


def test_bad_calls_are_refused_too(legacy):
    calls = [
        {"call_id": "C1", "started_at": at(2, 9), "answered_at": at(2, 8), "ticket": "nope"},
        {"call_id": "C1", "started_at": at(2, 9), "caller_phone": "abc"},
    ]
    with pytest.raises(HistoryError) as err:
        import_history(legacy.admin, [legacy.row()], calls)
    errors = err.value.message_dict
    assert {
        "calls[0].answered_at",
        "calls[0].ticket",
        "calls[1].call_id",
        "calls[1].caller_phone",
    } <= set(errors)
    assert counts()["tickets"] == 0


def test_importing_the_same_tickets_again_is_refused(legacy):
    import_history(legacy.admin, [legacy.row()])
    with pytest.raises(HistoryError) as err:
        import_history(legacy.admin, [legacy.row()])
    assert "已存在" in err.value.message_dict["tickets[0].number"][0]
    assert Ticket.objects.count() == 1


def test_only_platform_administrators_or_the_system_import(legacy):
    with pytest.raises(PermissionDenied):
        import_history(legacy.operator, [legacy.row()])
    assert import_history(None, [legacy.row()]).tickets == 1


def test_an_empty_batch_is_refused(legacy):
    with pytest.raises(HistoryError, match="没有要导入"):
        import_history(legacy.admin, [])


def test_a_caller_again_about_the_same_matter_is_a_repeat_and_sees_both(legacy):
    citizen = CitizenFactory(phone=PHONE)
    first = legacy.row("20260302000001")
    again = copy.deepcopy(legacy.row("20260309000001", address="示范市东城区东湖路 30 号"))
    for step in again["steps"]:
        step["at"] += dt.timedelta(days=7)
    for entry in again["follow_ups"]:
        entry["at"] += dt.timedelta(days=7)
    again["sign_due"] += dt.timedelta(days=7)
    again["handle_due"] += dt.timedelta(days=7)
    report = import_history(legacy.admin, [again, first])
    assert report.repeats == 1
    earlier = Ticket.objects.get(number="20260302000001")
    later = Ticket.objects.get(number="20260309000001")
    assert later.repeat_of == earlier and earlier.repeat_of is None
    assert list(later.related.all()) == [earlier]
    assert list(selectors.caller_history(PHONE)) == [later, earlier]
    assert later.reporter == citizen, "the citizen whose phone it is sees it as theirs"


def test_calls_are_imported_for_the_pick_up_rate_and_linked_to_their_ticket(legacy):
    calls = [
        {
            "call_id": "CTI-1",
            "caller_phone": PHONE,
            "started_at": at(2, 8, 58),
            "answered_at": at(2, 8, 59),
            "ended_at": at(2, 9, 4),
            "agent": legacy.operator.username,
            "ticket": "20260302000001",
        },
        {"call_id": "CTI-2", "caller_phone": PHONE, "started_at": at(2, 9, 30)},
    ]
    report = import_history(legacy.admin, [legacy.row()], calls)
    assert report.calls == 2
    answered = Call.objects.get(call_id="CTI-1")
    assert answered.ticket.number == "20260302000001" and answered.agent == legacy.operator
    assert answered.caller_phone == PHONE
    assert answered.caller_phone_index == blind_index(PHONE, "phone")
    assert Call.objects.get(call_id="CTI-2").answered_at is None


def test_the_batch_is_audited_once(legacy):
    import_history(legacy.admin, [legacy.row(), legacy.misdispatched()], source="旧系统 2026-03")
    event = AuditEvent.objects.get(action="hotline.import_history")
    assert event.actor_id == legacy.admin.pk
    assert event.object_id == "旧系统 2026-03"
    assert event.after["tickets"] == 2 and event.after["events"] == 16


def test_new_tickets_are_numbered_after_the_imported_ones_of_the_same_day(legacy, settings):
    settings.YIWANG_HOTLINE_CENTRE = legacy.centre.credit_code
    today = timezone.localdate()
    now = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    row = legacy.row(
        f"{today:%Y%m%d}000041",
        sign_due=None,
        handle_due=None,
        steps=[
            {"action": "report", "at": now},
            {"action": "reject", "at": now + dt.timedelta(minutes=5), "note": "重复反映"},
        ],
        status="rejected",
        follow_ups=[],
    )
    live = services.report(
        legacy.operator, channel="phone", kind="help", description="东湖路的路灯不亮了"
    )
    assert live.number == f"{today:%Y%m%d}000001"
    import_history(legacy.admin, [row])
    ticket = services.report(
        legacy.operator, channel="phone", kind="help", description="东湖路的路灯又不亮了"
    )
    assert ticket.number == f"{today:%Y%m%d}000042"


def test_the_import_is_bulk_its_queries_do_not_grow_with_the_rows(legacy):
    def batch(size: int, day: int) -> list[dict]:
        rows = []
        for n in range(size):
            row = legacy.row(f"202603{day:02d}{n:06d}", reporter_phone=f"1391000{n:04d}")
            row["address"] = f"示范市东城区东湖路 {n} 号"
            rows.append(row)
        return rows

    with CaptureQueriesContext(connection) as small:
        import_history(legacy.admin, batch(5, 10))
    with CaptureQueriesContext(connection) as large:
        import_history(legacy.admin, batch(60, 11))
    assert Ticket.objects.count() == 65
    assert len(large.captured_queries) == len(small.captured_queries)
