"""Changes made through the Open311 interface (docs/open311.md): client keys issued and
revoked by administrators, service attributes, and service requests posted by clients.

Each change is one transaction with one audit event. A posted request becomes a hotline
ticket through `hotline.services.report` (channel "open311"), so it passes the same
checks as any other report; everything is checked before anything is written.
"""

import datetime as dt
import decimal
import math
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from yiwang.audit.services import record, snapshot
from yiwang.crypto.fields import blind_index
from yiwang.hotline import services as hotline
from yiwang.hotline.models import Area, Category, Ticket
from yiwang.identity.permissions import is_platform_admin
from yiwang.identity.validators import validate_phone
from yiwang.interop.models import ATTRIBUTE_CODE, Open311Attribute, Open311Client, Open311Request
from yiwang.interop.selectors import open311_service
from yiwang.interop.text import strip_invalid

KEY_PURPOSE = "open311_api_key"
DEFAULT_RATE_PER_MINUTE = 60
MAX_DESCRIPTION = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
MAX_STRING = 200
MAX_TEXT = 2000
MAX_UNKNOWN_ATTRIBUTES = 20
CLIENT_AUDIT_FIELDS = ["name", "key_prefix", "rate_per_minute", "is_active", "revoked_at"]
ATTRIBUTE_FIELDS = (
    "category",
    "code",
    "datatype",
    "required",
    "variable",
    "description",
    "datatype_description",
    "order",
    "values",
)
# Report fields of hotline.services.report under the names a GeoReport client sent.
REPORT_PARAMETERS = {
    "description": "description",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "reporter_phone": "phone",
    "category": "service_code",
}


class Open311Error(Exception):
    """A request GeoReport v2 refuses: the HTTP status and one description per problem."""

    def __init__(self, status: int, descriptions: list[str], retry_after: int | None = None):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions
        self.retry_after = retry_after


@dataclass
class Submission:
    """A POSTed service request as the client sent it (form fields, still unchecked)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)


TEXT_FIELDS = tuple(f.name for f in fields(Submission) if f.name != "attributes")


def _admin_or_system(actor: Any, what: str) -> None:
    """Platform administrators, or the system itself (a management command: actor None)."""
    if actor is not None and not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以%(what)s") % {"what": what})


# Client keys -----------------------------------------------------------------------------


def key_hash(raw_key: str) -> str:
    return blind_index(raw_key, KEY_PURPOSE)


def _check_key(raw_key: str) -> str:
    if not 16 <= len(raw_key) <= 200 or not raw_key.isascii() or not raw_key.isprintable():
        return _("密钥应为 16 至 200 个可打印的 ASCII 字符")
    if " " in raw_key:
        return _("密钥不能包含空格")
    if Open311Client.objects.filter(key_hash=key_hash(raw_key)).exists():
        return _("该密钥已签发过,请换一个")
    return ""


@transaction.atomic
def issue_key(
    actor: Any,
    name: str,
    contact: str = "",
    *,
    key: str | None = None,
    rate_per_minute: int | None = None,
) -> tuple[Open311Client, str]:
    """A new client key; the key itself is returned here once and never stored."""
    _admin_or_system(actor, _("签发 Open311 密钥"))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("请填写客户端名称(不超过 100 字)")]
    contact = (contact or "").strip()
    if len(contact) > 200:
        errors["contact"] = [_("联系方式不超过 200 字")]
    if rate_per_minute is not None and not 1 <= rate_per_minute <= 10000:
        errors["rate_per_minute"] = [_("每分钟上限应在 1 到 10000 之间")]
    raw_key = key if key is not None else secrets.token_urlsafe(32)
    problem = _check_key(raw_key)
    if problem:
        errors["key"] = [problem]
    if errors:
        raise ValidationError(errors)
    client = Open311Client.objects.create(
        name=name,
        contact=contact,
        key_hash=key_hash(raw_key),
        key_prefix=raw_key[:8],
        rate_per_minute=rate_per_minute,
        created_by=actor,
    )
    record(
        actor,
        "interop.open311_key.issue",
        client,
        after=snapshot(client, fields=CLIENT_AUDIT_FIELDS),
    )
    return client, raw_key


@transaction.atomic
def revoke_key(actor: Any, client: Open311Client) -> Open311Client:
    """From now on the key is refused (403); its past requests stay as they were."""
    _admin_or_system(actor, _("吊销 Open311 密钥"))
    client = Open311Client.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        raise ValidationError({"key": [_("“%(name)s”的密钥已于 %(at)s 吊销") % _revoked(client)]})
    before = snapshot(client, fields=CLIENT_AUDIT_FIELDS)
    client.is_active = False
    client.revoked_at = timezone.now()
    client.revoked_by = actor
    client.save(update_fields=["is_active", "revoked_at", "revoked_by"])
    record(
        actor,
        "interop.open311_key.revoke",
        client,
        before=before,
        after=snapshot(client, fields=CLIENT_AUDIT_FIELDS),
    )
    return client


def _revoked(client: Open311Client) -> dict[str, str]:
    at = timezone.localtime(client.revoked_at) if client.revoked_at else None
    return {"name": client.name, "at": f"{at:%Y-%m-%d %H:%M}" if at else ""}


def authenticate(raw_key: str) -> Open311Client:
    """The client a POST's api_key names; 403 (GeoReport's code) when missing or refused."""
    raw_key = (raw_key or "").strip()
    if not raw_key:
        raise Open311Error(403, [_("缺少 api_key:提交服务请求需要平台签发的密钥")])
    client = (
        Open311Client.objects.filter(key_hash=key_hash(raw_key)).first()
        if len(raw_key) <= 200
        else None
    )
    if client is None:
        raise Open311Error(403, [_("api_key 无效:请使用平台签发的密钥")])
    if not client.is_active:
        raise Open311Error(403, [_("api_key 已吊销,请联系平台管理员重新申请")])
    return client


def rate_per_minute(client: Open311Client) -> int:
    return client.rate_per_minute or getattr(
        settings, "YIWANG_OPEN311_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE
    )


def _check_rate(client: Open311Client, now: dt.datetime) -> None:
    """Counted from the client's stored requests, so every server process agrees."""
    limit = rate_per_minute(client)
    recent = Open311Request.objects.filter(
        client=client, created_at__gt=now - dt.timedelta(minutes=1)
    ).order_by("created_at")
    if recent.count() < limit:
        return
    oldest = recent.values_list("created_at", flat=True).first()
    wait = max(1, math.ceil(60 - (now - oldest).total_seconds()))
    raise Open311Error(
        429,
        [
            _("提交过于频繁:每个客户端每分钟最多 %(n)d 件,请 %(s)d 秒后再试")
            % {"n": limit, "s": wait}
        ],
        retry_after=wait,
    )


# Service attributes ----------------------------------------------------------------------


@transaction.atomic
def save_attribute(
    actor: Any, data: dict[str, Any], instance: Open311Attribute | None = None
) -> Open311Attribute:
    """Platform administrators define the extra questions of a service."""
    _admin_or_system(actor, _("维护 Open311 服务属性"))
    attribute = instance or Open311Attribute()
    before = snapshot(attribute, fields=ATTRIBUTE_FIELDS) if instance else None
    for name, value in data.items():
        if name in ATTRIBUTE_FIELDS:
            setattr(attribute, name, value)
    attribute.full_clean()
    attribute.save()
    record(
        actor,
        "interop.open311_attribute.save",
        attribute,
        before=before,
        after=snapshot(attribute, fields=ATTRIBUTE_FIELDS),
    )
    return attribute


# Service requests ------------------------------------------------------------------------


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


class _Refused(ValueError):
    """One parameter's problem, worded for the client."""


def _attribute_value(attribute: Open311Attribute, given: list[str]) -> tuple[Any, str] | None:
    """(stored value, how the ticket shows it), or None when left empty."""
    name = f"attribute[{attribute.code}]"
    values = [v.strip() for v in given if v and v.strip()]
    if not values:
        if attribute.required:
            raise _Refused(_("%(p)s(%(label)s)必填") % {"p": name, "label": attribute.description})
        return None
    kind = attribute.datatype
    if kind == Open311Attribute.Datatype.MULTI:
        chosen = list(dict.fromkeys(values))
        return chosen, "、".join(_choice(attribute, name, v) for v in chosen)
    if len(values) > 1:
        raise _Refused(_("%(p)s 只能有一个值") % {"p": name})
    value = values[0]
    if kind == Open311Attribute.Datatype.SINGLE:
        return value, _choice(attribute, name, value)
    if kind == Open311Attribute.Datatype.NUMBER:
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(value) > 30:
            raise _Refused(_("%(p)s 应为数字") % {"p": name})
        return value, value
    if kind == Open311Attribute.Datatype.DATETIME:
        moment = parse_moment(value)
        if moment is None:
            raise _Refused(
                _("%(p)s 应为 ISO 8601 日期时间,如 2026-05-01T08:30:00+08:00") % {"p": name}
            )
        return moment.isoformat(), _local(moment)
    limit = MAX_STRING if kind == Open311Attribute.Datatype.STRING else MAX_TEXT
    if len(value) > limit:
        raise _Refused(
            _("%(p)s 不能超过 %(n)d 字(现为 %(m)d 字)") % {"p": name, "n": limit, "m": len(value)}
        )
    if kind == Open311Attribute.Datatype.STRING and ("\n" in value or "\r" in value):
        raise _Refused(_("%(p)s 应为单行文字") % {"p": name})
    return value, value


def _choice(attribute: Open311Attribute, name: str, key: str) -> str:
    """The option's name for a list attribute's key."""
    names = attribute.value_names()
    if key not in names:
        raise _Refused(
            _("%(p)s 的值“%(v)s”不在选项中(可选:%(keys)s)")
            % {"p": name, "v": key[:50], "keys": "、".join(names)}
        )
    return names[key]


def parse_moment(value: str) -> dt.datetime | None:
    """ISO 8601 / W3C date or date-time; without a zone it is the city's local time."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = dt.datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _attributes(
    category: Category, given: dict[str, list[str]], errors: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Values of the service's attributes, checked against its definition; attributes the
    definition does not name (some clients always send their own) are kept as text."""
    stored: dict[str, Any] = {}
    lines: list[str] = []
    defined = {a.code: a for a in category.open311_attributes.all()}
    for attribute in defined.values():
        if not attribute.variable:
            continue
        try:
            found = _attribute_value(attribute, given.get(attribute.code, []))
        except _Refused as problem:
            errors.append(str(problem))
            continue
        if found is not None:
            stored[attribute.code], shown = found
            lines.append(f"{attribute.description}:{shown}")
    others = {code: values for code, values in given.items() if code not in defined}
    if len(others) > MAX_UNKNOWN_ATTRIBUTES:
        errors.append(
            _("最多可附带 %(n)d 个服务定义之外的 attribute,本次有 %(m)d 个")
            % {"n": MAX_UNKNOWN_ATTRIBUTES, "m": len(others)}
        )
        return stored, lines
    for code, values in others.items():
        text = "、".join(v.strip() for v in values if v.strip())
        if not ATTRIBUTE_CODE.fullmatch(code):
            errors.append(_("attribute[%(c)s] 的编码无效") % {"c": code[:50]})
        elif len(text) > MAX_STRING:
            errors.append(_("attribute[%(c)s] 不能超过 %(n)d 字") % {"c": code, "n": MAX_STRING})
        elif text:
            stored[code] = text
            lines.append(f"{code}:{text}")
    return stored, lines


def _coordinate(value: str, low: int, high: int, name: str, errors: list[str]) -> Any:
    try:
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        values = {"p": name, "low": low, "high": high}
        errors.append(_("%(p)s 应为 %(low)d 到 %(high)d 之间的数字(WGS 84)") % values)
        return None
    return number


def _location(s: Submission, errors: list[str]) -> dict[str, Any]:
    """One of lat & long, address_string or address_id (GeoReport v2); address_id is a
    行政区划代码 of the city's streets (hotline Area)."""
    found: dict[str, Any] = {"latitude": None, "longitude": None, "area": None}
    if s.lat or s.long:
        if not (s.lat and s.long):
            errors.append(_("lat 和 long 需要同时提供"))
        else:
            found["latitude"] = _coordinate(s.lat, -90, 90, "lat", errors)
            found["longitude"] = _coordinate(s.long, -180, 180, "long", errors)
    address = s.address_string
    if len(address) > 200:
        errors.append(_("address_string 不能超过 200 字(现为 %(n)d 字)") % {"n": len(address)})
    if s.address_id:
        areas = Area.objects.select_related("parent").filter(code=s.address_id)
        area = areas.first() if len(s.address_id) <= 12 else None
        if area is None:
            errors.append(_("address_id“%(id)s”不是本市的区划代码") % {"id": s.address_id[:50]})
        else:
            found["area"] = area
            address = address or " ".join(a.name for a in (area.parent, area) if a is not None)
    if not (s.lat or s.long or s.address_string or s.address_id):
        errors.append(_("缺少位置:请提供 lat 和 long,或 address_string,或 address_id"))
    found["address"] = address
    return found


def _person(s: Submission, errors: list[str]) -> dict[str, str]:
    person = {"name": "", "phone": "", "email": ""}
    for name, value, limit in (
        ("first_name", s.first_name, 30),
        ("last_name", s.last_name, 30),
        ("device_id", s.device_id, 100),
        ("account_id", s.account_id, 100),
    ):
        if len(value) > limit:
            errors.append(_("%(p)s 不能超过 %(n)d 个字符") % {"p": name, "n": limit})
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in s.first_name + s.last_name)
    parts = (s.last_name, s.first_name) if cjk else (s.first_name, s.last_name)
    person["name"] = ("" if cjk else " ").join(p for p in parts if p)
    if s.phone:
        try:
            person["phone"] = validate_phone(s.phone)
        except ValidationError as exc:
            errors.append(f"phone:{exc.messages[0]}")
    if s.email:
        try:
            validate_email(s.email)
            person["email"] = s.email
        except ValidationError:
            errors.append(_("email 不是有效的电子邮箱地址"))
    return person


def _media_url(value: str, errors: list[str]) -> str:
    """Kept as text for staff to open; the server never fetches it."""
    if not value:
        return ""
    try:
        if len(value) > 1000:
            raise ValidationError("too long")
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors.append(_("media_url 应为不超过 1000 个字符的 http(s) 网址"))
        return ""
    return value


def compose_description(
    category: Category, text: str, lines: list[str], media_url: str, client: Open311Client
) -> str:
    """The reporter's words first, then what the form asked, in words an operator reads."""
    extra = [*lines]
    if media_url:
        extra.append(_("图片链接:%(url)s") % {"url": media_url})
    extra.append(_("来源应用:%(name)s") % {"name": client.name})
    opening = text or _("%(service)s(通过 Open311 上报)") % {"service": category.name}
    heading = _("【Open311 补充信息】")
    return f"{opening}\n\n{heading}\n" + "\n".join(extra)


def submit_request(client: Open311Client, submission: Submission) -> Open311Request:
    """POST Service Request: checks everything, then writes the ticket and its record in one
    transaction. Refusals are `Open311Error`s naming the parameters, nothing written."""
    now = timezone.now()
    _check_rate(client, now)
    s = submission
    for name in TEXT_FIELDS:
        setattr(s, name, strip_invalid(getattr(s, name) or "").strip())
    s.attributes = {
        strip_invalid(code): [strip_invalid(v) for v in values]
        for code, values in s.attributes.items()
    }
    errors: list[str] = []
    category = None
    if not s.service_code:
        errors.append(_("缺少 service_code:请先从 services 列表中选择服务"))
    else:
        category = open311_service(s.service_code)
        if category is None:
            raise Open311Error(
                404, [_("service_code“%(code)s”不存在或未开放") % {"code": s.service_code[:50]}]
            )
    if len(s.description) > MAX_DESCRIPTION:
        errors.append(
            _("description 不能超过 %(n)d 字(现为 %(m)d 字)")
            % {"n": MAX_DESCRIPTION, "m": len(s.description)}
        )
    where = _location(s, errors)
    person = _person(s, errors)
    media_url = _media_url(s.media_url, errors)
    stored, lines = _attributes(category, s.attributes, errors) if category else ({}, [])
    description = ""
    if category is not None and not errors:
        description = compose_description(category, s.description, lines, media_url, client)
        if len(description) > hotline.MAX_DESCRIPTION:
            errors.append(
                _("description 与各项 attribute 合计不能超过 %(n)d 字(现为 %(m)d 字)")
                % {"n": hotline.MAX_DESCRIPTION, "m": len(description)}
            )
    if errors:
        raise Open311Error(400, errors)
    try:
        with transaction.atomic():
            ticket = hotline.report(
                None,
                channel=Ticket.Channel.OPEN311,
                kind=Ticket.Kind.HELP,
                description=description,
                category=category,
                address=where["address"],
                latitude=where["latitude"],
                longitude=where["longitude"],
                area=where["area"],
                reporter_name=person["name"],
                reporter_phone=person["phone"],
                is_anonymous=not any(person.values()),
            )
            submitted = Open311Request.objects.create(
                ticket=ticket,
                client=client,
                token=secrets.token_hex(16),
                attributes=stored,
                address_id=s.address_id,
                media_url=media_url,
                email=person["email"],
                device_id=s.device_id,
                account_id=s.account_id,
            )
            Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
            record(
                None,
                "interop.open311.request",
                submitted,
                after={
                    "client": client.name,
                    "ticket": ticket.number,
                    "service_code": category.code,
                    "attributes": sorted(stored),
                },
            )
    except hotline.TicketError as exc:
        raise Open311Error(
            400,
            [
                f"{REPORT_PARAMETERS.get(name, name)}:{message}"
                for name, messages in exc.message_dict.items()
                for message in messages
            ],
        ) from None
    return submitted
