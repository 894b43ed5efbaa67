"""好差评 rules (STANDARDS.md): who may rate what and when, and the 差评 loop."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import add_working_days
from yiwang.cases.models import Case
from yiwang.identity.tests.factories import CitizenFactory, PlatformAdminFactory, StaffFactory
from yiwang.notify.models import OutboxMessage
from yiwang.ratings import selectors, services
from yiwang.ratings.models import Rating, Rectification
from yiwang.ratings.tests.factories import ConcludedCaseFactory, RatingFactory

pytestmark = pytest.mark.django_db
PC = Rating.Channel.PC


def _inapp_recipients(topic: str) -> set[int]:
    return {
        json.loads(m.payload)["user_id"]
        for m in OutboxMessage.objects.filter(topic=topic, channel="inapp")
    }


@pytest.mark.parametrize(
    "level, opens_rectification",
    [(1, False), (2, False), (3, False), (4, True), (5, True)],
)
def test_only_dissatisfied_levels_open_a_rectification(case, level, opens_rectification):
    rating = services.rate(case.applicant, case, level, PC, comment="办理速度")
    assert rating.sequence == 1
    assert rating.is_bad is opens_rectification
    assert Rectification.objects.filter(rating=rating).exists() is opens_rectification


def test_rating_copies_department_and_region(case, department):
    rating = services.rate(case.applicant, case, 2, Rating.Channel.MOBILE)
    assert rating.department == department
    assert rating.region_code == "350102"
    assert rating.channel == "mobile"


def test_bad_rating_gets_a_working_day_deadline_from_settings(case, settings):
    settings.YIWANG_RECTIFICATION_DAYS = 15
    rating = services.rate(case.applicant, case, 5, PC, comment="态度差")
    today = timezone.localdate(rating.created_at)
    assert rating.rectification.due_date == add_working_days(today, 15, current_overrides())
    assert rating.rectification.status == Rectification.Status.OPEN


def test_second_rating_is_the_supplement_and_a_third_is_refused(case):
    services.rate(case.applicant, case, 4, PC, comment="等太久")
    second = services.rate(case.applicant, case, 2, PC, comment="后来解决了")
    assert second.sequence == Rating.Sequence.SUPPLEMENT
    with pytest.raises(ValidationError) as exc:
        services.rate(case.applicant, case, 1, PC)
    assert "已评价并补充评价,不能再次评价" in exc.value.message_dict["case"]
    assert Rating.objects.filter(case=case).count() == 2


@pytest.mark.parametrize(
    "days_after, allowed",
    [(0, True), (14, True), (16, False)],
)
def test_rating_period_counts_calendar_days_after_conclusion(days_after, allowed, settings):
    settings.YIWANG_RATING_PERIOD_DAYS = 15
    case = ConcludedCaseFactory(concluded_at=timezone.now() - dt.timedelta(days=days_after))
    if allowed:
        assert services.rate(case.applicant, case, 1, PC).sequence == 1
    else:
        with pytest.raises(ValidationError, match="评价期限已过"):
            services.rate(case.applicant, case, 1, PC)
        assert not Rating.objects.exists()


def test_supplement_after_the_period_is_refused(case, settings):
    services.rate(case.applicant, case, 3, PC)
    Case.objects.filter(pk=case.pk).update(concluded_at=timezone.now() - dt.timedelta(days=30))
    case.refresh_from_db()
    with pytest.raises(ValidationError, match="评价期限已过"):
        services.rate(case.applicant, case, 1, PC)


@pytest.mark.parametrize(
    "status, result, allowed",
    [
        (Case.Status.CONCLUDED, Case.Result.GRANTED, True),
        (Case.Status.DELIVERED, Case.Result.GRANTED, True),
        (Case.Status.CONCLUDED, Case.Result.REFUSED, True),
        (Case.Status.SUBMITTED, Case.Result.RETURNED, True),
        (Case.Status.DRAFT, Case.Result.NONE, False),
        (Case.Status.SUBMITTED, Case.Result.NONE, False),
        (Case.Status.ACCEPTED, Case.Result.NONE, False),
        (Case.Status.DECIDED, Case.Result.GRANTED, False),
        (Case.Status.WITHDRAWN, Case.Result.NONE, False),
    ],
)
def test_only_finished_cases_can_be_rated(status, result, allowed):
    case = ConcludedCaseFactory(status=status, result=result)
    if allowed:
        services.rate(case.applicant, case, 1, PC)
    else:
        with pytest.raises(ValidationError, match="办结"):
            services.rate(case.applicant, case, 1, PC)


@pytest.mark.parametrize(
    "who", ["other_citizen", "staff_of_department", "platform_admin", "anonymous"]
)
def test_only_the_applicant_may_rate(case, department, who):
    from django.contrib.auth.models import AnonymousUser

    rater = {
        "other_citizen": lambda: CitizenFactory(),
        "staff_of_department": lambda: StaffFactory(department=department, roles=["admin"]),
        "platform_admin": lambda: PlatformAdminFactory(),
        "anonymous": AnonymousUser,
    }[who]()
    with pytest.raises(PermissionDenied):
        services.rate(rater, case, 1, PC)
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "level, channel, comment, field",
    [
        (0, PC, "", "level"),
        (6, PC, "", "level"),
        ("abc", PC, "", "level"),
        (None, PC, "", "level"),
        (1, "fax", "", "channel"),
        (4, PC, "", "comment"),
        (5, PC, "   ", "comment"),
        (1, PC, "长" * 1001, "comment"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(case, level, channel, comment, field):
    with pytest.raises(ValidationError) as exc:
        services.rate(case.applicant, case, level, channel, comment)
    assert field in exc.value.message_dict
    assert not Rating.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="ratings.").exists()


def test_bad_rating_notifies_department_lead_and_admins(case, department, dept_admin, decider):
    lead = StaffFactory()
    department.lead = lead
    department.save()
    rating = services.rate(case.applicant, case, 4, PC, comment="材料被要求多次提交")
    assert _inapp_recipients("ratings.rectification_opened") == {lead.pk, dept_admin.pk}
    message = OutboxMessage.objects.filter(topic="ratings.rectification_opened").first()
    assert f"/console/rectifications/{rating.rectification.pk}/" in message.payload


def test_good_rating_notifies_nobody(case, dept_admin):
    services.rate(case.applicant, case, 1, PC)
    assert not OutboxMessage.objects.filter(topic__startswith="ratings.").exists()


def test_rate_writes_one_audit_event_naming_the_rectification(case):
    rating = services.rate(case.applicant, case, 5, PC, comment="很差")
    events = AuditEvent.objects.filter(action="ratings.rate")
    assert events.count() == 1
    event = events.get()
    assert event.object_id == str(rating.pk)
    assert event.department_id == case.department_id
    assert event.after["rectification"]["id"] == rating.rectification.pk


def test_failure_while_notifying_leaves_nothing_half_written(case, dept_admin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(services, "enqueue_notification", broken)
    with pytest.raises(RuntimeError):
        services.rate(case.applicant, case, 5, PC, comment="很差")
    assert not Rating.objects.exists()
    assert not Rectification.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="ratings.").exists()


# ---------------------------------------------------------------- rectification


@pytest.fixture
def rectification(case):
    return services.rate(case.applicant, case, 5, PC, comment="很差").rectification


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("admin", True),
        ("decision", True),
        ("intake", False),
        ("review", False),
        ("other_department_admin", False),
        ("platform_admin", False),
        ("applicant", False),
    ],
)
def test_who_may_handle_a_rectification(rectification, department, other_admin, who, allowed):
    if who == "other_department_admin":
        actor = other_admin
    elif who == "platform_admin":
        actor = PlatformAdminFactory()
    elif who == "applicant":
        actor = rectification.rating.rater
    else:
        actor = StaffFactory(department=department, roles=[who])
    if allowed:
        services.record_callback(actor, rectification, "电话回访,已致歉", True)
        services.close_rectification(actor, rectification, "优化材料清单", "已改进,感谢监督")
    else:
        with pytest.raises(PermissionDenied):
            services.record_callback(actor, rectification, "电话回访", False)
        with pytest.raises(PermissionDenied):
            services.close_rectification(actor, rectification, "措施", "答复")
        rectification.refresh_from_db()
        assert rectification.status == Rectification.Status.OPEN


def test_close_without_callback_is_refused(rectification, dept_admin):
    with pytest.raises(ValidationError) as exc:
        services.close_rectification(dept_admin, rectification, "措施", "答复")
    assert "回访" in exc.value.message_dict["callback"][0]
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN
    assert rectification.closed_at is None


def test_callback_then_close_tells_the_rater(rectification, decider):
    services.record_callback(decider, rectification, "2026-03-02 电话回访,群众反映排队久", False)
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CALLED_BACK
    assert rectification.callback_by == decider and rectification.owner == decider
    services.close_rectification(decider, rectification, "增加窗口", "已增开窗口,谢谢您的监督")
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CLOSED
    assert rectification.closed_by == decider
    rater = rectification.rating.rater
    assert _inapp_recipients("ratings.rectification_closed") == {rater.pk}
    message = OutboxMessage.objects.get(topic="ratings.rectification_closed", channel="inapp")
    assert "已增开窗口" in message.payload
    assert f"/my/cases/{rectification.rating.case_id}/" in message.payload
    actions = list(
        AuditEvent.objects.filter(object_type="ratings.rectification")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["ratings.rectification.callback", "ratings.rectification.close"]


@pytest.mark.parametrize("field", ["notes"])
def test_callback_needs_notes(rectification, dept_admin, field):
    with pytest.raises(ValidationError) as exc:
        services.record_callback(dept_admin, rectification, "  ", False)
    assert field in exc.value.message_dict


@pytest.mark.parametrize(
    "measures, reply, field", [("", "答复", "measures"), ("措施", "", "reply")]
)
def test_close_needs_measures_and_reply(rectification, dept_admin, measures, reply, field):
    services.record_callback(dept_admin, rectification, "已回访", False)
    with pytest.raises(ValidationError) as exc:
        services.close_rectification(dept_admin, rectification, measures, reply)
    assert field in exc.value.message_dict
    assert not OutboxMessage.objects.filter(topic="ratings.rectification_closed").exists()


def test_closed_rectification_cannot_be_changed_again(rectification, dept_admin):
    services.record_callback(dept_admin, rectification, "已回访", False)
    services.close_rectification(dept_admin, rectification, "措施", "答复")
    with pytest.raises(ValidationError):
        services.record_callback(dept_admin, rectification, "再次回访", False)
    with pytest.raises(ValidationError):
        services.close_rectification(dept_admin, rectification, "措施", "答复")


# ---------------------------------------------------------------- void (申诉)


def test_platform_admin_voids_a_rating_and_its_open_rectification(rectification):
    admin = PlatformAdminFactory()
    rating = services.void_rating(admin, rectification.rating, "经核实为误评")
    assert rating.is_void and rating.voided_by == admin
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.VOIDED
    assert AuditEvent.objects.filter(action="ratings.void").count() == 1
    with pytest.raises(ValidationError):
        services.void_rating(admin, rating, "重复")


@pytest.mark.parametrize("reason", ["", "   "])
def test_void_needs_a_reason(rectification, reason):
    with pytest.raises(ValidationError) as exc:
        services.void_rating(PlatformAdminFactory(), rectification.rating, reason)
    assert "reason" in exc.value.message_dict


def test_department_staff_cannot_void(rectification, dept_admin):
    with pytest.raises(PermissionDenied):
        services.void_rating(dept_admin, rectification.rating, "不认可")
    rectification.rating.refresh_from_db()
    assert not rectification.rating.is_void


# ---------------------------------------------------------------- selectors


def test_department_summary_counts_levels_good_rate_and_on_time_rate(department, dept_admin):
    today = timezone.localdate()
    for level in [1, 1, 2, 3, 4, 5]:
        case = ConcludedCaseFactory(listing__department=department)
        services.rate(case.applicant, case, level, PC, comment="意见")
    RatingFactory(case__listing__department=department, level=5, is_void=True)
    on_time, late = Rectification.objects.filter(department=department).order_by("id")
    for r in (on_time, late):
        services.record_callback(dept_admin, r, "已回访", False)
        services.close_rectification(dept_admin, r, "措施", "答复")
    Rectification.objects.filter(pk=late.pk).update(due_date=today - dt.timedelta(days=3))
    summary = selectors.department_summary(department, today, today)
    assert summary["counts"] == {1: 2, 2: 1, 3: 1, 4: 1, 5: 1}
    assert summary["total"] == 6 and summary["bad"] == 2
    assert summary["good_rate"] == round(4 / 6, 4)
    assert summary["rectifications"] == 2
    assert summary["on_time_rate"] == 0.5
    empty = selectors.department_summary(
        department, today - dt.timedelta(days=10), today - dt.timedelta(days=9)
    )
    assert empty["total"] == 0 and empty["good_rate"] is None


def test_rating_state_for_the_case_page(case):
    state = selectors.rating_state(case, case.applicant)
    assert state["can_rate"] and not state["is_supplement"]
    services.rate(case.applicant, case, 2, PC)
    state = selectors.rating_state(case, case.applicant)
    assert state["can_rate"] and state["is_supplement"]
    assert not selectors.rating_state(case, CitizenFactory())["can_rate"]
    services.rate(case.applicant, case, 1, PC)
    state = selectors.rating_state(case, case.applicant)
    assert not state["can_rate"] and "不能再次评价" in state["reason"]
    assert len(state["ratings"]) == 2


@pytest.mark.parametrize(
    "offset_days, status, tone",
    [
        (-1, Rectification.Status.OPEN, "red"),
        (0, Rectification.Status.OPEN, "yellow"),
        (30, Rectification.Status.CALLED_BACK, "green"),
        (-1, Rectification.Status.CLOSED, ""),
    ],
)
def test_due_tone(offset_days, status, tone):
    today = dt.date(2025, 6, 10)
    rectification = Rectification(status=status, due_date=today + dt.timedelta(days=offset_days))
    assert selectors.due_tone(rectification, today) == tone
