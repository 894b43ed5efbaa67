"""Pages: the applicant's rating form (portal) and 差评整改 handling (console).

Thin: services make the changes and check permissions again; service errors are
shown next to the field they name.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases.models import Case
from yiwang.identity.permissions import current_department, is_platform_admin, staff_required
from yiwang.ratings import selectors, services
from yiwang.ratings.channels import WEB_CHANNELS, channel_for_user_agent
from yiwang.ratings.forms import CallbackForm, CloseForm, RateForm, VoidForm
from yiwang.ratings.models import Rating, Rectification

PAGE_SIZE = 20


def _attach(form: Any, exc: ValidationError) -> None:
    for key, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(key if key in form.fields else None, error)


def case_detail_url(case_id: int) -> str:
    """The applicant's case page (cases app), or its path while that page is not wired."""
    try:
        return reverse("portal:case_detail", args=[case_id])
    except NoReverseMatch:
        return f"/my/cases/{case_id}/"


# ---------------------------------------------------------------- portal


@login_required
def case_rate(request: HttpRequest, case_id: int) -> HttpResponse:
    """GET shows the form on its own page; POST rates and returns to the case page."""
    case = get_object_or_404(
        Case.objects.select_related("department", "listing"), pk=case_id, applicant=request.user
    )
    form = RateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        channel = form.cleaned_data["channel"]
        if channel not in WEB_CHANNELS:
            channel = channel_for_user_agent(request.headers.get("User-Agent", ""))
        try:
            rating = services.rate(
                request.user,
                case,
                form.cleaned_data["level"],
                channel,
                form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            if rating.is_bad:
                messages.success(
                    request, _("感谢您的评价。部门将在整改期限内回访您,并告知整改结果。")
                )
            else:
                messages.success(request, _("感谢您的评价"))
            return redirect(case_detail_url(case.pk))
    return render(
        request,
        "ratings/rate.html",
        {
            "case": case,
            "rating": selectors.rating_state(case, request.user),
            "form": form if request.method == "POST" else None,
            "case_url": case_detail_url(case.pk),
        },
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- console


def _visible_rectification(request: HttpRequest, rectification_id: int) -> Rectification:
    """Staff see their own departments' rectifications (platform admins all); others 404."""
    return get_object_or_404(selectors.visible_rectifications(request.user), pk=rectification_id)


@staff_required
def rectification_list(request: HttpRequest) -> HttpResponse:
    department = current_department(request)
    rectifications = (
        selectors.visible_rectifications(request.user).filter(department=department)
        if department
        else Rectification.objects.none()
    )
    status = request.GET.get("status", "open")
    if status == "open":
        rectifications = rectifications.filter(
            status__in=[Rectification.Status.OPEN, Rectification.Status.CALLED_BACK]
        )
    elif status in Rectification.Status.values:
        rectifications = rectifications.filter(status=status)
    else:
        status = ""
    due = request.GET.get("due", "")
    if due == "overdue":
        rectifications = rectifications.filter(
            status__in=[Rectification.Status.OPEN, Rectification.Status.CALLED_BACK],
            due_date__lt=timezone.localdate(),
        )
    page = Paginator(rectifications.order_by("due_date", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    return render(
        request,
        "ratings/console/rectification_list.html",
        {
            "department": department,
            "page_obj": page,
            "rows": [(r, selectors.due_tone(r, today)) for r in page],
            "status": status,
            "due": due,
            "statuses": [("open", _("未办结")), *Rectification.Status.choices, ("", _("全部"))],
        },
    )


def _detail(
    request: HttpRequest,
    rectification: Rectification,
    callback_form: CallbackForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_handle = services.can_handle(request.user, rectification.department_id)
    return render(
        request,
        "ratings/console/rectification_detail.html",
        {
            "rectification": rectification,
            "rating": rectification.rating,
            "case": rectification.rating.case,
            "tone": selectors.due_tone(rectification),
            "can_handle": can_handle and rectification.is_open,
            "callback_form": callback_form
            or CallbackForm(
                initial={
                    "notes": rectification.callback_notes,
                    "fixed_on_spot": rectification.fixed_on_spot,
                }
            ),
            "close_form": close_form or CloseForm(),
            "can_void": is_platform_admin(request.user) and not rectification.rating.is_void,
            "void_form": VoidForm(),
        },
        status=status,
    )


@staff_required
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    return _detail(request, _visible_rectification(request, rectification_id))


def _handled(request: HttpRequest, rectification_id: int) -> Rectification:
    rectification = _visible_rectification(request, rectification_id)
    if not services.can_handle(request.user, rectification.department_id):
        raise PermissionDenied(_("只有整改部门的管理员或决定岗位人员可以处理差评整改"))
    return rectification


@require_POST
@staff_required
def rectification_callback(request: HttpRequest, rectification_id: int) -> HttpResponse:
    rectification = _handled(request, rectification_id)
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            services.record_callback(
                request.user,
                rectification,
                form.cleaned_data["notes"],
                form.cleaned_data["fixed_on_spot"],
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("回访记录已保存"))
            return redirect("console:rectification_detail", rectification_id=rectification.pk)
    return _detail(request, rectification, callback_form=form, status=400)


@require_POST
@staff_required
def rectification_close(request: HttpRequest, rectification_id: int) -> HttpResponse:
    rectification = _handled(request, rectification_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            data = form.cleaned_data
            services.close_rectification(
                request.user, rectification, data["measures"], data["reply"]
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("整改已办结,答复已发送给评价人"))
            return redirect("console:rectification_detail", rectification_id=rectification.pk)
    return _detail(request, rectification, close_form=form, status=400)


@require_POST
@staff_required
def rating_void(request: HttpRequest, rating_id: int) -> HttpResponse:
    """申诉 upheld by a platform administrator: the rating stops counting."""
    if not is_platform_admin(request.user):
        raise PermissionDenied(_("只有平台管理员可以撤销评价"))
    rating = get_object_or_404(Rating, pk=rating_id)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.void_rating(request.user, rating, form.cleaned_data["reason"])
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("评价已撤销,不再计入统计"))
    for error in form.errors.values():
        messages.error(request, " ".join(error))
    rectification = Rectification.objects.filter(rating=rating).first()
    if rectification is None:
        return redirect("console:rectification_list")
    return redirect("console:rectification_detail", rectification_id=rectification.pk)
