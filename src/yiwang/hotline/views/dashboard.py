"""Hotline figures: the staff dashboard (console) and public statistics (portal).

Thin: `metrics` defines, counts and caches the figures; these views decide which scope
the viewer may see, read the period from the filter form, and render every figure as a
table, so the pages work without JavaScript. The charts and the map read the same
figures as JSON from `…/data/` (docs/hotline-metrics.md).
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from yiwang.hotline import metrics
from yiwang.identity.permissions import staff_required

# (key in figures, label, definition in words): the order of the tiles and the table.
RATES = [
    ("answered", gettext_lazy("接通率"), gettext_lazy("接通的来电 ÷ 呼入的来电")),
    (
        "signed_on_time",
        gettext_lazy("按时签收率"),
        gettext_lazy("按时签收 ÷(已签收 + 超期仍未签收)"),
    ),
    (
        "handled_on_time",
        gettext_lazy("按时办结率"),
        gettext_lazy("按时办结 ÷(已办结 + 超期仍未办结)"),
    ),
    (
        "followed_up",
        gettext_lazy("回访率"),
        gettext_lazy("已回访的结案工单 ÷ 能联系到反映人的结案工单"),
    ),
    ("satisfied", gettext_lazy("满意率"), gettext_lazy("满意(非常满意、满意、基本满意)÷ 已回访")),
    ("returned", gettext_lazy("发回重办率"), gettext_lazy("发回重办过的 ÷ 已办结")),
    ("repeated", gettext_lazy("重复诉求率"), gettext_lazy("重复诉求工单 ÷ 登记工单")),
]
PUBLIC_RATES = ("answered", "handled_on_time", "followed_up", "satisfied")


class FiguresForm(forms.Form):
    """The period (and, for whoever may pick one, the department) of the figures."""

    period = forms.ChoiceField(
        label=gettext_lazy("统计方式"),
        choices=[
            (metrics.MONTH, gettext_lazy("按月")),
            (metrics.WEEK, gettext_lazy("按周")),
            (metrics.RANGE, gettext_lazy("自定义日期")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    month = forms.CharField(
        label=gettext_lazy("月份"),
        required=False,
        help_text=gettext_lazy("如 2026-11"),
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    week = forms.CharField(
        label=gettext_lazy("周"),
        required=False,
        help_text=gettext_lazy("如 2026-W47"),
        widget=forms.TextInput(attrs={"type": "week"}),
    )

    def __init__(self, *args: Any, scope: metrics.Scope | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.period: metrics.Period | None = None
        # "from" is a Python keyword, so the date fields are added by name.
        for name, label in (("from", gettext_lazy("开始日期")), ("to", gettext_lazy("结束日期"))):
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                help_text=gettext_lazy("如 2026-11-01"),
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        if scope is not None and (scope.city or len(scope.choices) > 1):
            departments = list(scope.choices)
            if scope.department is not None and scope.department not in departments:
                departments.append(scope.department)
            choices = [("", _("全市"))] if scope.city else []
            choices += [(str(d.pk), d.name) for d in departments]
            self.fields["department"] = forms.ChoiceField(
                label=_("部门"), choices=choices, required=False
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        try:
            self.period = metrics.parse_period(cleaned)
        except metrics.PeriodError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned

    @property
    def date_fields(self) -> list[forms.BoundField]:
        return [self["from"], self["to"]]


def _form_data(params: QueryDict, scope: metrics.Scope | None) -> dict[str, str]:
    """What the form shows: the request's values, else this month (and the scope's department)."""
    data = {name: params.get(name, "") for name in ("period", "month", "week", "from", "to")}
    if not any(data.values()):
        data.update(period=metrics.MONTH, month=metrics.this_month().value)
    elif not data["period"]:
        filled = (k for k, fields in metrics.PERIOD_FIELDS.items() if any(data[f] for f in fields))
        data["period"] = next(filled, "")
    if scope is not None and scope.department is not None:
        data["department"] = str(scope.department.pk)
    return data


def _percent(rate: dict | None) -> str:
    if not rate or rate["rate"] is None:
        return "—"
    return f"{rate['rate'] * 100:.1f}%"


def _rate_rows(figures: dict, keys: tuple[str, ...] | None = None) -> list[dict]:
    rows = []
    for key, label, definition in RATES:
        rate = figures.get(key)
        if rate is None or (keys is not None and key not in keys):
            continue
        rows.append(
            {
                "key": key,
                "label": label,
                "definition": definition,
                "value": _percent(rate),
                "numerator": rate["numerator"],
                "denominator": rate["denominator"],
            }
        )
    return rows


def _shares(rows: list[dict], total: int) -> list[dict]:
    return [
        {**row, "share": _percent({"rate": row["count"] / total if total else None})}
        for row in rows
    ]


def _trend_rows(months: list[dict]) -> list[dict]:
    return [
        {
            "label": m["label"],
            "tickets": m["tickets"],
            "handled_on_time": _percent(m["handled_on_time"]),
            "satisfied": _percent(m["satisfied"]),
        }
        for m in months
    ]


def _period_query(period: metrics.Period) -> dict[str, str]:
    """The filter parameters that name `period` again (for links to a department's figures)."""
    if period.kind == metrics.RANGE:
        return {"period": period.kind, "from": str(period.first), "to": str(period.last)}
    return {"period": period.kind, period.kind: period.value}


def _ranking_rows(ranking: list[dict], period: metrics.Period) -> list[dict]:
    keys = ("signed_on_time", "handled_on_time", "followed_up", "satisfied", "returned")
    return [
        {
            "department": row["department"],
            "url": "?"
            + urlencode({**_period_query(period), "department": row["department"]["id"]}),
            "tickets": row["tickets"],
            "objections": row["objections"],
            **{key: _percent(row[key]) for key in keys},
        }
        for row in ranking
    ]


def _tables(data: dict) -> dict[str, Any]:
    """The figure set as rows for the page's tables (the charts' accessible twin)."""
    total = data["figures"]["tickets"]
    return {
        "by_category": _shares(data["by_category"], total),
        "top_categories": _shares(data["top_categories"], total),
        "by_area": _shares(data["by_area"], total),
        "by_channel": _shares(data["by_channel"], total),
        "by_kind": _shares(data["by_kind"], total),
        "trend": _trend_rows(data["trend"]),
    }


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data,
        status=status,
        content_type="application/json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "private, no-store"
    return response


# Staff dashboard ---------------------------------------------------------------------------


def _staff_scope(request: HttpRequest) -> metrics.Scope:
    """Whose figures: an unknown department is a 404; another department's, a 403."""
    try:
        return metrics.scope_for(request.user, request.GET.get("department"))
    except ValidationError:
        raise Http404(_("该部门不存在")) from None


@require_GET
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _staff_scope(request)
    form = FiguresForm(_form_data(request.GET, scope), scope=scope)
    valid = form.is_valid()
    context: dict[str, Any] = {"form": form, "scope": scope, "department": scope.department}
    if valid:
        data = metrics.dashboard_figures(form.period, scope.department)
        query = request.GET.urlencode()
        context.update(
            period=form.period,
            figures=data["figures"],
            rates=_rate_rows(data["figures"]),
            open=data["open"],
            ranking=_ranking_rows(data["ranking"], form.period),
            data_url=reverse("console:hotline_dashboard_data") + (f"?{query}" if query else ""),
            **_tables(data),
        )
    return render(
        request, "hotline/dashboard/dashboard.html", context, status=200 if valid else 400
    )


@require_GET
@staff_required
def dashboard_data(request: HttpRequest) -> JsonResponse:
    """The dashboard's figures and the open tickets on the map, for the charts."""
    scope = _staff_scope(request)
    try:
        period = metrics.parse_period(request.GET)
    except metrics.PeriodError as exc:
        return _json({"errors": exc.message_dict}, status=400)
    department_id = scope.department.pk if scope.department else None
    data = metrics.dashboard_figures(period, scope.department)
    return _json({**data, "points": metrics.map_points(department_id)})


# Public statistics -------------------------------------------------------------------------


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """数据公开: the city's figures for anyone, without a department or a single ticket."""
    form = FiguresForm(_form_data(request.GET, None))
    valid = form.is_valid()
    context: dict[str, Any] = {"form": form}
    if valid:
        data = metrics.published_figures(form.period)
        query = request.GET.urlencode()
        context.update(
            period=form.period,
            figures=data["figures"],
            rates=_rate_rows(data["figures"], PUBLIC_RATES),
            data_url=reverse("portal:hotline_stats_data") + (f"?{query}" if query else ""),
            **_tables(data),
        )
    return render(request, "hotline/stats/stats.html", context, status=200 if valid else 400)


@require_GET
def stats_data(request: HttpRequest) -> JsonResponse:
    try:
        period = metrics.parse_period(request.GET)
    except metrics.PeriodError as exc:
        return _json({"errors": exc.message_dict}, status=400)
    response = _json(metrics.published_figures(period))
    response["Cache-Control"] = f"public, max-age={metrics.PUBLIC_CACHE_SECONDS}"
    return response


urlpatterns = [
    path("hotline/dashboard/", dashboard, name="hotline_dashboard"),
    path("hotline/dashboard/data/", dashboard_data, name="hotline_dashboard_data"),
]
public_urlpatterns = [
    path("hotline/stats/", stats, name="hotline_stats"),
    path("hotline/stats/data/", stats_data, name="hotline_stats_data"),
]
