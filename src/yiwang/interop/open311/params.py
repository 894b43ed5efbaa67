"""Query and form parameters as GeoReport v2 defines them.

"Optional" means an empty parameter is the same as none (spec, Definitions). Lists are
comma-separated and may also be repeated. A POSTed `attribute[code]=value` (or
`attribute[code][]=value` for a multivaluelist) is gathered per code."""

import datetime as dt
import re

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.interop.selectors import MAX_PAGE_SIZE, RequestQuery, known_service_codes
from yiwang.interop.services import TEXT_FIELDS, Open311Error, Submission, parse_moment

ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]*)\](?:\[\])?")
UNENCODED_PLUS = re.compile(r"(T[\d:.]+) (\d{2}:?\d{2})$")
MAX_SPAN = dt.timedelta(days=90)
MAX_IDS = 1000
STATUSES = ("open", "closed")


def values(params: QueryDict, name: str) -> list[str]:
    """Every non-empty value of a repeatable, comma-separated parameter."""
    found = [v.strip() for raw in params.getlist(name) for v in raw.split(",")]
    return list(dict.fromkeys(v for v in found if v))


def _moment(params: QueryDict, name: str) -> dt.datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    moment = parse_moment(UNENCODED_PLUS.sub(r"\1+\2", raw))  # "+08:00" sent unencoded
    if moment is None:
        raise Open311Error(
            400, [_("%(p)s 应为 W3C 日期时间,如 2026-05-01T00:00:00+08:00") % {"p": name}]
        )
    return moment


def _positive(params: QueryDict, name: str, default: int, highest: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= highest:
        raise Open311Error(400, [_("%(p)s 应为 1 到 %(n)d 的整数") % {"p": name, "n": highest}])
    return int(raw)


def request_query(params: QueryDict, now: dt.datetime | None = None) -> RequestQuery:
    """GET Service Requests filters; by default the most recent 90 days."""
    ids = values(params, "service_request_id")
    if len(ids) > MAX_IDS:
        raise Open311Error(400, [_("一次最多查询 %(n)d 个 service_request_id") % {"n": MAX_IDS}])
    page_size = _positive(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    page = _positive(params, "page", 1, 100_000)
    if ids:
        return RequestQuery(ids=tuple(ids), page_size=page_size)
    problems = []
    codes = tuple(values(params, "service_code"))
    unknown = sorted(set(codes) - known_service_codes(codes))
    if unknown:
        problems.append(_("service_code 不存在:%(codes)s") % {"codes": ", ".join(unknown)[:200]})
    statuses = tuple(values(params, "status"))
    if set(statuses) - set(STATUSES):
        problems.append(_("status 只能是 open 或 closed(可用逗号分隔)"))
    start, end = _moment(params, "start_date"), _moment(params, "end_date")
    now = now or timezone.now()
    if start is None and end is None:
        start, end = now - MAX_SPAN, now
    elif start is None:
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if start > end:
        problems.append(_("start_date 不能晚于 end_date"))
    elif end - start > MAX_SPAN:
        problems.append(_("start_date 与 end_date 相隔不能超过 90 天"))
    if problems:
        raise Open311Error(400, problems)
    return RequestQuery(
        codes=codes, start=start, end=end, statuses=statuses, page=page, page_size=page_size
    )


def submission(form: QueryDict) -> Submission:
    found = Submission()
    for name in TEXT_FIELDS:
        setattr(found, name, form.get(name, ""))
    for key in form:
        match = ATTRIBUTE_KEY.fullmatch(key)
        if match:
            found.attributes.setdefault(match.group(1), []).extend(form.getlist(key))
    return found
