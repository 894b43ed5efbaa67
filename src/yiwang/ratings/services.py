"""好差评 changes: rate a case, call the rater back, close a rectification, void a rating.

Each function is one transaction writing exactly one audit event; notifications go
through the outbox in the same transaction, so a refused change sends nothing.
Permissions are checked here as well as in the views, so the API, the pages and
any future caller enforce the same rules.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import record, snapshot
from yiwang.calendar.overrides import current_overrides
from yiwang.cases import deadlines
from yiwang.cases.models import Case
from yiwang.identity.models import StaffRole, User
from yiwang.identity.permissions import has_role, is_platform_admin
from yiwang.notify.services import enqueue_notification
from yiwang.ratings.models import Rating, Rectification

RATEABLE_STATUSES = (Case.Status.CONCLUDED, Case.Status.DELIVERED)
RATEABLE_RESULTS = (Case.Result.REFUSED, Case.Result.RETURNED)
HANDLER_ROLES = (StaffRole.Role.ADMIN, StaffRole.Role.DECISION)
MAX_TEXT = 1000


def rating_period_days() -> int:
    return int(getattr(settings, "YIWANG_RATING_PERIOD_DAYS", 15))


def rectification_days() -> int:
    return int(getattr(settings, "YIWANG_RECTIFICATION_DAYS", 5))


def is_rateable(case: Case) -> bool:
    """Concluded or delivered, or ended early by 不予受理 / 预审退回."""
    return case.status in RATEABLE_STATUSES or case.result in RATEABLE_RESULTS


def period_start(case: Case) -> dt.datetime | None:
    """When the rating period starts: conclusion, or the last step a refused case reached."""
    return case.concluded_at or case.delivered_at or case.decided_at or case.submitted_at


def period_end(case: Case) -> dt.datetime | None:
    start = period_start(case)
    return start + dt.timedelta(days=rating_period_days()) if start else None


def can_handle(user: Any, department_id: int | None) -> bool:
    """差评整改 is handled by the department's administrators and deciders."""
    return department_id is not None and any(
        has_role(user, department_id, role) for role in HANDLER_ROLES
    )


def _text(value: str | None, field: str, label: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: [_("请填写%(label)s") % {"label": label}]})
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {
                field: [
                    _("%(label)s最多 %(max)d 个字,当前 %(n)d 个字,请精简")
                    % {"label": label, "max": MAX_TEXT, "n": len(text)}
                ]
            }
        )
    return text


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if isinstance(value, bool) or level not in Rating.Level.values:
        raise ValidationError(
            {"level": [_("请选择满意度:1 非常满意、2 满意、3 基本满意、4 不满意、5 非常不满意")]}
        )
    return level


def _handlers(department: Any) -> list[User]:
    """The department's lead and administrators: who must know about a 差评."""
    users = list(
        User.objects.filter(
            staff_roles__department=department,
            staff_roles__role=StaffRole.Role.ADMIN,
            is_active=True,
        ).distinct()
    )
    lead = department.lead
    if lead is not None and lead.is_active and all(u.pk != lead.pk for u in users):
        users.insert(0, lead)
    return users


@transaction.atomic
def rate(rater: Any, case: Case, level: Any, channel: str, comment: str = "") -> Rating:
    """The applicant rates a finished case: once, then one 补充评价 within the period."""
    # The lock serializes concurrent ratings of one case: both cannot be sequence 1.
    case = Case.objects.select_for_update(of=("self",)).select_related("department").get(pk=case.pk)
    if rater is None or not rater.is_authenticated or case.applicant_id != rater.pk:
        raise PermissionDenied(_("只有该办件的申请人可以评价"))
    if not is_rateable(case):
        raise ValidationError(
            {"case": [_("办件尚未办结,办结(或不予受理、退回)后才能评价")]}, code="not_finished"
        )
    level = _level(level)
    if channel not in Rating.Channel.values:
        raise ValidationError(
            {
                "channel": [
                    _("评价渠道不正确,可选:%(choices)s")
                    % {"choices": "、".join(Rating.Channel.values)}
                ]
            }
        )
    comment = _text(comment, "comment", _("文字评价"), required=level >= 4)
    now = timezone.now()
    end = period_end(case)
    if end is not None and now > end:
        raise ValidationError(
            {
                "case": [
                    _("评价期限已过(办结后 %(days)d 天内可评价),不能再评价")
                    % {"days": rating_period_days()}
                ]
            },
            code="period_over",
        )
    done = Rating.objects.filter(case=case).count()
    if done >= 2:
        raise ValidationError({"case": [_("已评价并补充评价,不能再次评价")]}, code="rated")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case,
                rater=rater,
                level=level,
                channel=channel,
                comment=comment,
                sequence=done + 1,
                created_at=now,
                region_code=case.department.region_code,
                department=case.department,
            )
    except IntegrityError as exc:  # only without row locks (SQLite tests); same answer
        raise ValidationError({"case": [_("该办件刚刚已被评价,请刷新页面后查看")]}) from exc
    after = snapshot(rating)
    if rating.is_bad:
        rectification = _open_rectification(rating, case)
        after["rectification"] = {"id": rectification.pk, "due_date": rectification.due_date}
    record(
        rater,
        "ratings.rate",
        rating,
        after=after,
        department_id=rating.department_id,
    )
    return rating


def _open_rectification(rating: Rating, case: Case) -> Rectification:
    today = timezone.localdate(rating.created_at)
    rectification = Rectification.objects.create(
        rating=rating,
        department=case.department,
        created_at=rating.created_at,
        due_date=deadlines.limit(today, rectification_days(), current_overrides())[0],
    )
    title = _("差评待整改:%(number)s") % {"number": case.number or case.pk}
    body = _("%(level)s。请在 %(due)s 前回访评价人并完成整改。评价内容:%(comment)s") % {
        "level": rating.get_level_display(),
        "due": rectification.due_date.isoformat(),
        "comment": rating.comment[:200],
    }
    for user in _handlers(case.department):
        enqueue_notification(
            user,
            "ratings.rectification_opened",
            title,
            body,
            f"/console/rectifications/{rectification.pk}/",
            dedupe_key=f"rectification:{rectification.pk}:opened:{user.pk}",
        )
    return rectification


def _lock_rectification(actor: Any, rectification: Rectification) -> Rectification:
    locked = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("rating", "rating__case")
        .get(pk=rectification.pk)
    )
    if not can_handle(actor, locked.department_id):
        raise PermissionDenied(_("只有整改部门的管理员或决定岗位人员可以处理差评整改"))
    return locked


@transaction.atomic
def record_callback(
    actor: Any, rectification: Rectification, notes: str, fixed_on_spot: bool
) -> Rectification:
    """The named call-back (实名差评回访率 100%); may be recorded again until closed."""
    rectification = _lock_rectification(actor, rectification)
    if not rectification.is_open:
        raise ValidationError(
            {
                "status": [
                    _("该整改已%(status)s,不能再记录回访")
                    % {"status": rectification.get_status_display()}
                ]
            }
        )
    before = snapshot(rectification)
    rectification.callback_notes = _text(notes, "notes", _("回访记录"), required=True)
    rectification.fixed_on_spot = bool(fixed_on_spot)
    rectification.callback_at = timezone.now()
    rectification.callback_by = actor
    rectification.owner = rectification.owner or actor
    rectification.status = Rectification.Status.CALLED_BACK
    rectification.save()
    record(
        actor,
        "ratings.rectification.callback",
        rectification,
        before=before,
        after=snapshot(rectification),
        department_id=rectification.department_id,
    )
    return rectification


@transaction.atomic
def close_rectification(
    actor: Any, rectification: Rectification, measures: str, reply: str
) -> Rectification:
    """Close after the call-back, and tell the rater what was done."""
    rectification = _lock_rectification(actor, rectification)
    if rectification.status == Rectification.Status.OPEN:
        raise ValidationError(
            {"callback": [_("尚未回访评价人:请先填写回访记录,再办结整改(实名差评须 100% 回访)")]},
            code="callback_missing",
        )
    if not rectification.is_open:
        raise ValidationError(
            {
                "status": [
                    _("该整改已%(status)s,不能再办结")
                    % {"status": rectification.get_status_display()}
                ]
            }
        )
    before = snapshot(rectification)
    rectification.measures = _text(measures, "measures", _("整改措施"), required=True)
    rectification.reply = _text(reply, "reply", _("答复评价人"), required=True)
    rectification.status = Rectification.Status.CLOSED
    rectification.closed_at = timezone.now()
    rectification.closed_by = actor
    rectification.save()
    rating = rectification.rating
    case = rating.case
    enqueue_notification(
        rating.rater,
        "ratings.rectification_closed",
        _("您的评价已处理"),
        rectification.reply[:300],
        f"/my/cases/{case.pk}/" if case else "",
        dedupe_key=f"rectification:{rectification.pk}:closed",
    )
    record(
        actor,
        "ratings.rectification.close",
        rectification,
        before=before,
        after=snapshot(rectification),
        department_id=rectification.department_id,
    )
    return rectification


@transaction.atomic
def void_rating(actor: Any, rating: Rating, reason: str) -> Rating:
    """申诉 upheld: a mistaken or malicious rating no longer counts (platform admin only)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以撤销评价"))
    rating = Rating.objects.select_for_update().get(pk=rating.pk)
    if rating.is_void:
        raise ValidationError({"rating": [_("该评价已撤销,无需重复操作")]})
    before = snapshot(rating)
    rating.void_reason = _text(reason, "reason", _("撤销原因"), required=True)
    rating.is_void = True
    rating.voided_at = timezone.now()
    rating.voided_by = actor
    rating.save()
    after = snapshot(rating)
    rectification = Rectification.objects.filter(rating=rating).first()
    if rectification is not None and rectification.is_open:
        rectification.status = Rectification.Status.VOIDED
        rectification.save(update_fields=["status"])
        after["rectification"] = {"id": rectification.pk, "status": rectification.status}
    record(
        actor,
        "ratings.void",
        rating,
        before=before,
        after=after,
        department_id=rating.department_id,
    )
    return rating
