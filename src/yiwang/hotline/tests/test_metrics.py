"""Hotline figures on a small hand-built month whose answers are worked out by hand.

March 2026, 8 tickets registered (t1–t8), one in February (t9) and one just after midnight
on 1 April (t10), local time. The table under `march` says what each ticket did; each
test below states the figure's definition (docs/hotline-metrics.md) and its value.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.hotline import metrics, services
from yiwang.hotline.metrics import Period, Rate
from yiwang.hotline.models import Area, Call, Category, Ticket
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
S = Ticket.Status
MARCH = Period.month(2026, 3)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


def set_row(ticket: Ticket, **fields) -> None:
    """History the services cannot fake: timestamps and outcomes written to the row."""
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


@pytest.fixture
def march(world):
    """
    | ticket | lead | what happened                                   | on time: sign / handle |
    |--------|------|-------------------------------------------------|------------------------|
    | t1     | D    | handled, reporter satisfied (1), closed          | yes / yes              |
    | t2     | D    | handled late, checked and closed, no 回访         | yes / no               |
    | t3     | D    | handled, reporter unsatisfied (4): 发回重办        | yes / yes              |
    | t4     | D    | dispatched, signature overdue                    | late (unsigned) / –    |
    | t5     | D2   | anonymous, noise, closed without 回访              | yes / yes              |
    | t6     | D2   | 退单 by D, re-dispatched to D2, signed late,       | no / late (unhandled)  |
    |        |      | handling overdue                                 |                        |
    | t7     | –    | 咨询 by phone, answered on the spot               | – / –                  |
    | t8     | –    | reported 23:30 on 31 March, repeat of t1         | – / –                  |
    | t9     | –    | reported in February                             | outside March          |
    | t10    | –    | reported 00:10 on 1 April                        | outside March          |
    """
    d2 = DepartmentFactory(name="示范市生态环境局")
    d2_staff = StaffFactory(department=d2, roles=["intake"])
    root = Category.objects.create(code="03", name="生态环境")
    noise = Category.objects.create(code="0301", name="噪声扰民", parent=root, department=d2)
    street_a = Area.objects.create(code="359902001000", name="东湖街道")
    street_b = Area.objects.create(code="359902002000", name="湖滨街道")
    past = at("2026-03-10")

    t1 = world.ticket_in(S.HANDLED)
    services.follow_up(world.citizen, t1, channel="web", solved=True, level=1)
    t2 = world.ticket_in(S.CLOSED)
    set_row(t2, handled_on_time=False)
    t3 = world.ticket_in(S.HANDLED)
    services.follow_up(world.citizen, t3, channel="web", solved=False, level=4, comment="没修好")
    t4 = world.ticket_in(S.DISPATCHED)
    set_row(t4, due_at=past, warn_at=past)

    t5 = world.report(is_anonymous=True, category=noise, description="夜里工地施工噪声很大")
    world.do(t5, "register")
    world.do(t5, "dispatch")
    for action in ("sign", "handle"):
        services.act(d2_staff, t5, action, result="已责令停工")
    world.do(t5, "check")
    world.do(t5, "close")

    t6 = world.ticket_in(S.DISPATCHED)
    world.do(t6, "object", note="不属于本部门职责")
    world.do(t6, "dispatch", department=d2)
    services.act(d2_staff, t6, "sign")
    set_row(t6, signed_on_time=False, due_at=past, warn_at=past)

    t7 = world.report(channel="phone", kind=Ticket.Kind.CONSULT, actor=world.operator)
    world.do(t7, "answer", note="按政策口径当场答复")
    t8, t9, t10 = world.report(), world.report(), world.report()

    created = {
        t1: at("2026-03-02"),
        t2: at("2026-03-03"),
        t3: at("2026-03-04"),
        t4: at("2026-03-05"),
        t5: at("2026-03-06"),
        t6: at("2026-03-09"),
        t7: at("2026-03-10"),
        t8: at("2026-03-31", "23:30"),
        t9: at("2026-02-27"),
        t10: at("2026-04-01", "00:10"),
    }
    Ticket.objects.update(repeat_of=None)
    for ticket, when in created.items():
        set_row(ticket, created_at=when)
    set_row(t8, repeat_of=t1)
    for ticket in (t1, t2, t3):
        set_row(ticket, area=street_a)
    set_row(t4, area=street_b)
    Ticket.objects.filter(pk__in=[t.pk for t in (t5, t6, t7, t8, t9, t10)]).update(area=None)

    for i, (started, answered) in enumerate(
        [
            (at("2026-03-02", "09:00"), True),
            (at("2026-03-02", "09:05"), True),
            (at("2026-03-15", "22:00"), False),
            (at("2026-03-31", "23:59"), True),
            (at("2026-02-28", "10:00"), False),  # February: not counted
        ]
    ):
        Call.objects.create(
            call_id=f"cti-{i}",
            started_at=started,
            answered_at=started + dt.timedelta(seconds=20) if answered else None,
        )
    return {"d": world.department, "d2": d2, "noise": noise, "t1": t1, "t6": t6}


# The city's figures ------------------------------------------------------------------------


def test_a_ticket_belongs_to_the_local_month_it_was_registered_in(march):
    assert metrics.figures(MARCH).tickets == 8  # t1–t8; t9 is February, t10 is April
    assert metrics.figures(Period.month(2026, 4)).tickets == 1
    assert metrics.figures(Period.month(2026, 2)).tickets == 1


def test_answered_calls_are_answered_among_calls_that_came_in(march):
    assert metrics.figures(MARCH).answered == Rate(3, 4)


def test_signed_on_time_counts_an_overdue_unsigned_ticket_as_late(march):
    # signed on time t1 t2 t3 t5; signed late t6; waiting past its deadline t4
    assert metrics.figures(MARCH).signed_on_time == Rate(4, 6)


def test_handled_on_time_counts_overdue_handling_as_late(march):
    # handled on time t1 t3 t5; handled late t2; still handling past its deadline t6
    assert metrics.figures(MARCH).handled_on_time == Rate(3, 5)


def test_follow_up_rate_is_over_closed_tickets_with_a_reachable_reporter(march):
    # closed: t1 (回访), t2 (none), t5 (anonymous: nobody to ask, not counted)
    assert metrics.figures(MARCH).followed_up == Rate(1, 2)


def test_satisfaction_is_levels_one_to_three_among_those_followed_up(march):
    assert metrics.figures(MARCH).satisfied == Rate(1, 2)  # t1 level 1, t3 level 4


def test_return_rate_is_returned_among_handled(march):
    assert metrics.figures(MARCH).returned == Rate(1, 4)  # t3 among t1 t2 t3 t5


def test_repeats_and_objections(march):
    numbers = metrics.figures(MARCH)
    assert numbers.repeated == Rate(1, 8)  # t8
    assert (numbers.objections, numbers.objected_tickets) == (1, 1)  # t6


def test_rates_read_as_percentages():
    assert Rate(2, 3).percent == "66.7%"
    assert Rate(0, 0).percent == "—" and Rate(0, 0).value is None


# One department -----------------------------------------------------------------------------


def test_a_department_is_measured_on_the_tickets_it_leads(march):
    numbers = metrics.figures(MARCH, march["d"].pk)
    assert numbers.tickets == 4  # t1–t4; t6 went to D2 after D objected
    assert numbers.signed_on_time == Rate(3, 4)
    assert numbers.handled_on_time == Rate(2, 3)
    assert numbers.followed_up == Rate(1, 2)
    assert numbers.satisfied == Rate(1, 2)
    assert numbers.returned == Rate(1, 3)
    assert numbers.answered is None  # calls are the centre's


def test_objections_count_for_the_department_that_objected(march):
    assert metrics.figures(MARCH, march["d"].pk).objections == 1
    other = metrics.figures(MARCH, march["d2"].pk)
    assert (other.tickets, other.objections) == (2, 0)
    assert other.signed_on_time == Rate(1, 2)  # t5 on time, t6 late
    assert other.followed_up == Rate(0, 0)  # t5 was anonymous


def test_ranking_puts_the_better_on_time_handler_first(march):
    rows = metrics.ranking(MARCH)
    assert [(r["department"]["id"], r["tickets"]) for r in rows] == [
        (march["d"].pk, 4),
        (march["d2"].pk, 2),
    ]
    assert rows[0]["handled_on_time"] == {"numerator": 2, "denominator": 3, "rate": 0.6667}
    assert rows[0]["objections"] == 1 and rows[1]["objections"] == 0


# Breakdowns, open work, trend ----------------------------------------------------------------


def test_breakdowns_by_channel_kind_category_and_area(march):
    tickets = metrics.cohort(MARCH)
    channels, kinds = metrics.by_channel_and_kind(tickets)
    assert [(c.key, c.count) for c in channels] == [("web", 7), ("phone", 1)]
    assert [(c.key, c.count) for c in kinds] == [("help", 7), ("consult", 1)]
    groups, leaves = metrics.by_category(tickets)
    assert [(g.name, g.count) for g in groups] == [("城市管理", 7), ("生态环境", 1)]
    assert [(c.name, c.count) for c in leaves] == [("路灯不亮", 7), ("噪声扰民", 1)]
    assert [(a.name, a.count) for a in metrics.by_area(tickets)] == [
        ("未定位", 4),
        ("东湖街道", 3),
        ("湖滨街道", 1),
    ]


def test_public_figures_fold_unpublished_categories_into_other(march):
    Category.objects.filter(pk=march["noise"].pk).update(is_public=False)
    _groups, leaves = metrics.by_category(metrics.cohort(MARCH), public=True)
    assert [(c.name, c.count) for c in leaves] == [("路灯不亮", 7), ("其他", 1)]


def test_open_tickets_by_status_with_overdue_counted_red(march):
    rows = {r.status: r for r in metrics.open_by_status()}
    assert (rows[S.DISPATCHED].total, rows[S.DISPATCHED].red) == (1, 1)  # t4
    assert (rows[S.SIGNED].total, rows[S.SIGNED].red) == (2, 1)  # t3, t6 (overdue)
    assert rows[S.REPORTED].total == 3  # t8 t9 t10
    assert S.CLOSED not in rows
    mine = {r.status: r.total for r in metrics.open_by_status(march["d"].pk)}
    assert mine == {S.DISPATCHED: 1, S.SIGNED: 1}


def test_map_points_are_open_tickets_most_urgent_first(march):
    points = metrics.map_points()
    assert len(points) == 6
    assert {p["colour"] for p in points[:2]} == {"red"}
    assert points[0]["lat"] == pytest.approx(26.074)


def test_trend_gives_twelve_months_ending_with_the_period(march):
    months = metrics.trend(MARCH.last)
    assert (
        len(months) == 12 and months[0]["month"] == "2025-04" and months[-1]["month"] == "2026-03"
    )
    assert [m["tickets"] for m in months[-2:]] == [1, 8]
    assert months[-1]["handled_on_time"]["numerator"] == 3


def test_staff_and_public_figure_sets_hold_no_personal_data(march):
    staff = metrics.staff_figures(MARCH)
    assert staff["figures"]["tickets"] == 8 and len(staff["ranking"]) == 2
    public = metrics.public_figures(MARCH)
    assert set(public) == {
        "period",
        "figures",
        "by_channel",
        "by_kind",
        "by_category",
        "top_categories",
        "by_area",
        "trend",
    }
    text = str(public)
    assert march["t1"].number not in text and "13800000001" not in text


# Periods and who sees what -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, kind, first, last",
    [
        ({"month": "2026-02"}, "month", "2026-02-01", "2026-02-28"),
        ({"week": "2026-W10"}, "week", "2026-03-02", "2026-03-08"),
        ({"from": "2026-03-01", "to": "2026-03-15"}, "range", "2026-03-01", "2026-03-15"),
        ({}, "month", "2026-03-01", "2026-03-31"),
    ],
)
def test_periods_from_parameters(params, kind, first, last):
    period = metrics.parse_period(params, today=dt.date(2026, 3, 20))
    assert (period.kind, str(period.first), str(period.last)) == (kind, first, last)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "March"}, "month"),
        ({"week": "2026-W60"}, "week"),
        ({"from": "2026-03-01"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
        ({"from": "3月1日", "to": "2026-03-02"}, "from"),
        ({"month": "2026-03", "week": "2026-W10"}, "week"),
    ],
)
def test_bad_periods_name_the_field(params, field):
    with pytest.raises(ValidationError) as error:
        metrics.parse_period(params)
    assert field in error.value.message_dict


def test_the_centre_and_platform_admins_see_the_city_and_any_department(world):
    for user in (world.operator, world.dispatcher, world.supervisor, PlatformAdminFactory()):
        assert metrics.scope_for(user, "").department is None
        assert metrics.scope_for(user, str(world.department.pk)).department == world.department


def test_department_staff_see_only_their_own_department(world):
    scope = metrics.scope_for(world.department_staff, "")
    assert scope.department == world.department and not scope.city
    with pytest.raises(PermissionDenied):
        metrics.scope_for(world.other_department, str(world.department.pk))


@pytest.mark.parametrize("who", ["citizen", "staff_without_role"])
def test_others_see_no_figures(world, who):
    user = world.citizen if who == "citizen" else StaffFactory()
    with pytest.raises(PermissionDenied):
        metrics.scope_for(user, "")


def test_an_unknown_department_is_bad_input(world):
    with pytest.raises(ValidationError):
        metrics.scope_for(world.operator, "999999")
    with pytest.raises(ValidationError):
        metrics.scope_for(world.operator, "abc")


def test_citizens_without_any_role_are_refused_even_with_a_department(world):
    with pytest.raises(PermissionDenied):
        metrics.scope_for(CitizenFactory(), str(world.department.pk))
