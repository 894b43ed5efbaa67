"""Demo 12345 tickets: a year of closed history, calls, and open tickets in every state.

The history (20,000 tickets by default) is what the legacy 12345 system would hand over:
closed tickets with every step, follow-ups and the call records behind 接通率. It goes
in through `yiwang.hotline.history.import_history`, as a real migration would, and is
what smart routing learns from. Its text comes from data/hotline_phrases.yaml: the way
callers put things, on the demo streets of data/areas.geojson, at the hours and on the
days a hotline hears them, with vague texts that were first dispatched to the wrong
department, returns, unsatisfied follow-ups and callers who ring again.

The open tickets are then made through the closed loop's services by the demo staff
(operator, inspector, dispatcher, departments), so their timelines, audit trail and
messages are the real thing; overdue ones are moved back in time afterwards, as the
demo cases are (`cases._shift`), because the services always stamp "now".

The same seed gives the same tickets. The section is skipped once 张三 (13800000001), who
has tickets in both parts, has any, so a second `load_demo` adds nothing.
"""

import bisect
import datetime as dt
import io
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import CalendarUnknown, is_working_day
from yiwang.calendar.workhours import office_periods
from yiwang.common.codes import SatisfactionLevel
from yiwang.crypto.fields import blind_index
from yiwang.demo.loader import DATA_DIR, SectionReport, departments_by_key, read_yaml
from yiwang.hotline import deadlines, services
from yiwang.hotline.areas import contains
from yiwang.hotline.history import HistoryReport, import_history
from yiwang.hotline.models import (
    Category,
    FollowUp,
    Postponement,
    RoutingModel,
    Ticket,
    TicketEvent,
    TicketFile,
)
from yiwang.hotline.routing_train import TrainingError, train_and_store
from yiwang.identity.models import Department, StaffRole, User
from yiwang.notify.models import OutboxMessage
from yiwang.notify.services import EMAIL, SMS

SEED = 12345
DEFAULT_HISTORY = 20_000
ZHANG_SAN = "13800000001"
CENTRE_KEY = "rx"
_SLOT = re.compile(r"\{(\w+)\}")
_END = "。!?!?"


def phrases() -> dict[str, Any]:
    return read_yaml("hotline_phrases.yaml")


def _features() -> list[dict]:
    return json.loads((DATA_DIR / "areas.geojson").read_text(encoding="utf-8"))["features"]


# ---------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    """Where a caller is: a street of the demo city, a road on it and a point inside it."""

    area_code: str
    district: str
    street: str
    road: str
    number: int
    estate: str
    spot: str
    cross: str
    building: str
    latitude: Decimal
    longitude: Decimal

    def slots(self) -> dict[str, str]:
        return {
            "street": self.street,
            "road": self.road,
            "addr": f"{self.road}{self.number}号",
            "estate": self.estate,
            "spot": self.spot,
            "cross": self.cross,
            "building": self.building,
        }

    def address(self, text: str) -> str:
        base = f"示范市{self.district}{self.road}{self.number}号"
        return base + self.estate if self.estate in text else base


class Atlas:
    """The demo streets with their roads; each road has a point callers cluster around."""

    JITTER = 0.004  # degrees: about 400 m

    def __init__(self, streets: dict[str, dict], rng: random.Random):
        features = {f["properties"]["code"]: f for f in _features()}
        self.streets: list[tuple[str, str, str, dict, dict[str, tuple[float, float]]]] = []
        for code, names in streets.items():
            feature = features[code]
            geometry = feature["geometry"]
            district = features[feature["properties"]["parent"]]["properties"]["name"]
            anchors = {road: self._point(geometry, rng) for road in names["roads"]}
            name = feature["properties"]["name"]
            self.streets.append((code, district, name, names, anchors))
        self.geometry = {code: features[code]["geometry"] for code, *_ in self.streets}
        self.offices = {code: names.get("office") for code, _, _, names, _ in self.streets}

    @staticmethod
    def _bounds(geometry: dict) -> tuple[float, float, float, float]:
        rings = geometry["coordinates"] if geometry["type"] == "Polygon" else []
        if geometry["type"] == "MultiPolygon":
            rings = [ring for polygon in geometry["coordinates"] for ring in polygon]
        points = [p for ring in rings for p in ring]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)

    def _point(self, geometry: dict, rng: random.Random) -> tuple[float, float]:
        x0, y0, x1, y1 = self._bounds(geometry)
        while True:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if contains(geometry, x, y):
                return x, y

    def place(self, rng: random.Random, street: int | None = None) -> Place:
        code, district, street_name, names, anchors = self.streets[
            rng.randrange(len(self.streets)) if street is None else street
        ]
        road = rng.choice(names["roads"])
        other = rng.choice([r for r in names["roads"] if r != road])
        x, y = anchors[road]
        geometry = self.geometry[code]
        for _ in range(20):
            px = x + rng.uniform(-self.JITTER, self.JITTER)
            py = y + rng.uniform(-self.JITTER, self.JITTER)
            if contains(geometry, px, py):
                x, y = px, py
                break
        return Place(
            area_code=code,
            district=district,
            street=street_name,
            road=road,
            number=rng.randint(1, 320),
            estate=rng.choice(names["estates"]),
            spot=rng.choice(names["spots"]),
            cross=f"{road}与{other}交叉口" if rng.random() < 0.6 else f"{road}{other}路口",
            building=f"{rng.randint(1, 28)}{rng.choice(['号楼', '栋', '幢', '号楼'])}",
            latitude=Decimal(f"{y:.6f}"),
            longitude=Decimal(f"{x:.6f}"),
        )


# ---------------------------------------------------------------- what callers say


class Phrasebook:
    """Fills a category's caller phrasings (data/hotline_phrases.yaml) for one ticket."""

    def __init__(self, data: dict[str, Any]):
        self.common = data["common"]
        self.categories: dict[str, dict[str, Any]] = data["categories"]
        self.confusions: dict[str, list[dict[str, Any]]] = {}
        for group in data["confusions"]:
            for code in group["categories"]:
                self.confusions.setdefault(code, []).append(group)

    def kind(self, code: str, rng: random.Random) -> str:
        kinds = self.categories[code]["kinds"]
        return rng.choices(list(kinds), list(kinds.values()))[0]

    def confusion(self, code: str, rng: random.Random) -> dict[str, Any] | None:
        """The group of look-alike categories this ticket's words come from, if any."""
        roll = rng.random()
        for group in self.confusions.get(code, []):
            if roll < group["share"]:
                return group
            roll -= group["share"]
        return None

    def fill(self, template: str, code: str, place: Place, rng: random.Random) -> str:
        own = self.categories[code].get("slots", {})
        where = place.slots()

        def slot(match: re.Match) -> str:
            name = match.group(1)
            if name in own:  # a hospital for 医疗, a school for 入学: not any spot
                return rng.choice(own[name])
            return where[name] if name in where else rng.choice(self.common[name])

        return _SLOT.sub(slot, template)

    def describe(
        self,
        code: str,
        kind: str,
        place: Place,
        rng: random.Random,
        confusion: dict[str, Any] | None = None,
    ) -> str:
        """What the caller said, as the operator typed it."""
        entry = self.categories[code]
        body = rng.choice(confusion["texts"] if confusion else entry["texts"])
        text = self.fill(body, code, place, rng)
        if entry.get("extra") and rng.random() < 0.3:
            text += "," + rng.choice(entry["extra"])
        if kind != Ticket.Kind.CONSULT and rng.random() < 0.12:
            text += "," + rng.choice(self.common["urge"])
        if text[-1] not in _END:
            text += "?" if text[-1] in "吗呢" else "。"
        opening = rng.choice(self.common["open"].get(kind) or [""])
        return opening + text + rng.choice(self.common["close"].get(kind) or [""])

    def line(self, code: str, key: str, rng: random.Random, **values: str) -> str:
        """A department's or the centre's words: a result, an answer, a reason."""
        choices = self.categories[code].get(key) or self.common[key]
        return rng.choice(choices).format(**values)


# ---------------------------------------------------------------- working time, fast


class OutsideCalendar(LookupError):
    """A limit runs past the span the clock was built for (or the known calendar)."""


class WorkClock:
    """`deadlines.deadline` over a fixed span of days, for a year of generated tickets.

    The history needs several limits per ticket, 100,000 in all; walking the calendar
    for each would take most of a minute. Office periods of the span are laid out once
    with their running total of office seconds, so a limit is two binary searches.
    `test_hotline_tickets` checks it against `deadlines.deadline`.
    """

    def __init__(self, first: dt.date, last: dt.date, overrides: Any = None):
        overrides = current_overrides() if overrides is None else overrides
        tz = timezone.get_default_timezone()
        self.tz = tz
        self.days: list[dt.date] = []
        self.begins: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # office seconds of all earlier periods
        self.totals: list[float] = []  # ... and up to the end of this one
        total = 0.0
        day = first
        periods = office_periods()
        while day <= last:
            try:
                working = is_working_day(day, overrides)
            except CalendarUnknown:
                break
            if working:
                self.days.append(day)
                for begin, end in periods:
                    b = dt.datetime.combine(day, begin, tzinfo=tz).timestamp()
                    e = dt.datetime.combine(day, end, tzinfo=tz).timestamp()
                    self.begins.append(b)
                    self.ends.append(e)
                    self.before.append(total)
                    total += e - b
                    self.totals.append(total)
            day += dt.timedelta(days=1)
        self.close = periods[-1][1]
        self.hours_per_day = (
            sum(
                (dt.datetime.combine(first, e) - dt.datetime.combine(first, b)).total_seconds()
                for b, e in periods
            )
            / 3600
        )

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        t = start.timestamp()
        i = bisect.bisect_left(self.ends, t)  # the first period not over at `start`
        if i >= len(self.ends):
            raise OutsideCalendar(start)
        target = self.before[i] + max(0.0, t - self.begins[i]) + hours * 3600
        j = max(i, bisect.bisect_left(self.totals, target))
        if j >= len(self.totals):
            raise OutsideCalendar(start)
        return dt.datetime.fromtimestamp(self.begins[j] + target - self.before[j], self.tz)

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Office close on the n-th working day after the start's date."""
        i = bisect.bisect_right(self.days, timezone.localtime(start, self.tz).date()) + days - 1
        if i >= len(self.days):
            raise OutsideCalendar(start)
        return dt.datetime.combine(self.days[i], self.close, tzinfo=self.tz)

    def deadline(self, start: dt.datetime, amount: Any, unit: str) -> dt.datetime:
        value = Decimal(str(amount))
        if unit == deadlines.HOURS:
            return self.add_hours(start, float(value))
        if value == value.to_integral_value():
            return self.add_days(start, int(value))
        return self.add_hours(start, float(value) * self.hours_per_day)

    def limit_hours(self, amount: Any, unit: str) -> float:
        """A limit as office hours, to pick a time that keeps within it."""
        return float(amount) * (1 if unit == deadlines.HOURS else self.hours_per_day)


# ---------------------------------------------------------------- a year of history

# When people call: share by hour of day (7×24 service) and by weekday (Monday first).
HOURS = [3, 2, 1, 1, 1, 2, 6, 15, 35, 60, 65, 55, 35, 40, 55, 55, 50, 40, 30, 30, 30, 25, 15, 8]
WEEKDAYS = [115, 105, 105, 100, 100, 70, 65]
CHANNELS = {
    Ticket.Channel.PHONE: 62,
    Ticket.Channel.WEB: 9,
    Ticket.Channel.APP: 10,
    Ticket.Channel.MINI: 12,
    Ticket.Channel.OPEN311: 2,
}
INSPECTED = ("01", "0203", "0205", "0305")  # field inspectors find these themselves
COMPANY_LINE = ("04", "06", "0903", "0902")  # what the 企业专线 hears
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力海燕晓春国庆志宏雪梅"
FREQUENT_CALLERS = 70  # tickets per frequent caller (about 300 of them in 20,000 tickets)
# 张三 and 李四 have called before: (category, days ago); the agent console shows it.
NAMED_HISTORY = {
    ZHANG_SAN: [
        ("0101", 210),
        ("0301", 150),
        ("0104", 95),
        ("0301", 128),
        ("0504", 60),
        ("0205", 33),
    ],
    "13800000002": [("0402", 120), ("0601", 75)],
}
HISTORY_SOURCE = "示范市12345旧系统(演示数据)"


@dataclass
class Caller:
    name: str
    phone: str
    home: Place | None = None
    favourite: str | None = None  # what a frequent caller keeps calling about
    named: bool = False  # a demo account's owner: never anonymous, so the console shows it


@dataclass
class Staffing:
    """Who does what in the demo: the centre's staff and one account per department."""

    operator: str
    inspector: str
    dispatcher: str
    departments: dict[int, str]  # department id → username of its staff

    @classmethod
    def load(cls) -> "Staffing":
        people: dict[int, str] = {}
        order = {"intake": 0, "review": 1, "decision": 2, "admin": 3}
        roles = sorted(
            StaffRole.objects.select_related("user").filter(user__is_active=True),
            key=lambda r: (order.get(r.role, 9), r.user.username),
        )
        for role in roles:
            people.setdefault(role.department_id, role.user.username)
        return cls("rx_operator", "rx_inspector", "rx_dispatcher", people)


class HistoryMaker:
    """Generates the legacy system's export: ticket rows with steps and follow-ups, calls."""

    def __init__(
        self,
        rng: random.Random,
        book: Phrasebook,
        atlas: Atlas,
        clock: WorkClock,
        now: dt.datetime,
        staffing: Staffing,
    ):
        self.rng, self.book, self.atlas, self.clock, self.now = rng, book, atlas, clock, now
        self.staff = staffing
        self.cutoff = now - dt.timedelta(minutes=10)
        self.categories = {
            c.code: c
            for c in Category.objects.select_related("department").filter(
                code__in=list(book.categories)
            )
        }
        self.codes = [code for code in book.categories if code in self.categories]
        self.by_month = [
            [
                book.categories[c]["weight"] * book.categories[c].get("months", [10] * 12)[m]
                for c in self.codes
            ]
            for m in range(12)
        ]
        keys = departments_by_key()
        self.offices = {code: keys.get(key) for code, key in atlas.offices.items() if key}
        today = timezone.localdate(now)
        self.days = [today - dt.timedelta(days=n) for n in range(0, 366)]
        self.day_weights = [WEEKDAYS[d.weekday()] for d in self.days]
        self.frequent: list[Caller] = []
        self.rows: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []

    # people and moments

    def name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        prefix = self.rng.choice(["135", "136", "137", "139", "150", "151", "158", "186", "188"])
        return prefix + f"{self.rng.randrange(10**8):08d}"

    def moment(self, days_ago: int | None = None) -> dt.datetime:
        if days_ago is None:
            day = self.rng.choices(self.days, self.day_weights)[0]
        else:
            day = self.days[min(days_ago, len(self.days) - 1)]
        hour = self.rng.choices(range(24), HOURS)[0]
        at = dt.datetime.combine(
            day,
            dt.time(hour, self.rng.randrange(60), self.rng.randrange(60)),
            tzinfo=self.clock.tz,
        )
        return at if at < self.cutoff else at - dt.timedelta(days=1)

    def minutes(self, at: dt.datetime, low: float, high: float) -> dt.datetime:
        return at + dt.timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    def office(self, at: dt.datetime, hours: float) -> dt.datetime:
        return self.clock.add_hours(at, hours).replace(microsecond=0)

    def channel(self, code: str) -> str:
        if code.startswith(INSPECTED) and self.rng.random() < 0.2:
            return Ticket.Channel.INSPECTOR
        if code.startswith(COMPANY_LINE) and self.rng.random() < 0.15:
            return Ticket.Channel.COMPANY_LINE
        return self.rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]

    # the tickets

    def generate(self, count: int) -> None:
        located = [c for c in self.codes if self.book.categories[c].get("located", True)]
        self.frequent = [
            Caller(self.name(), self.phone(), self.atlas.place(self.rng), self.rng.choice(located))
            for _ in range(max(20, count // FREQUENT_CALLERS))
        ]
        for phone, tickets in NAMED_HISTORY.items():
            user = User.objects.filter(phone_index=blind_index(phone, "phone")).first()
            name = user.real_name if user else self.name()
            home = replace(self.atlas.place(self.rng, street=0), estate="东湖花园")
            for code, days_ago in tickets:
                caller = Caller(name, phone, home, code, named=True)
                self.add(code, caller, created=self.moment(days_ago), channel="phone")
        while len(self.rows) < count:
            self.add_random()
        self.rows.sort(key=lambda row: row["steps"][0]["at"])
        serials: Counter = Counter()
        for row in self.rows:
            day = timezone.localdate(row["steps"][0]["at"], self.clock.tz)
            serials[day] += 1
            row["number"] = f"{day:%Y%m%d}{serials[day]:06d}"
        self.other_calls(round(count * 1.5) - len(self.calls))
        for call in self.calls:
            call["ticket"] = call["ticket"]["number"] if call["ticket"] else ""

    def add_random(self) -> None:
        rng = self.rng
        created = self.moment()
        caller = rng.choice(self.frequent) if rng.random() < 0.12 else None
        if caller is not None and rng.random() < 0.7:
            code = caller.favourite
        else:
            code = rng.choices(self.codes, self.by_month[created.month - 1])[0]
        self.add(code, caller or Caller(self.name(), self.phone()), created)

    def add(
        self, code: str, caller: Caller, created: dt.datetime, channel: str | None = None
    ) -> None:
        """One ticket; tried again earlier when its story would not be over by now."""
        for _ in range(10):
            try:
                row = self.ticket(code, caller, created, channel)
            except OutsideCalendar:
                row = None
            if row is not None:
                self.rows.append(row)
                return
            created -= dt.timedelta(days=self.rng.randint(3, 20))

    def ticket(
        self, code: str, caller: Caller, created: dt.datetime, channel: str | None
    ) -> dict[str, Any] | None:
        rng, book = self.rng, self.book
        entry, category = book.categories[code], self.categories[code]
        kind = book.kind(code, rng)
        channel = channel or self.channel(code)
        place = caller.home if caller.home and caller.favourite == code else self.atlas.place(rng)
        group = book.confusion(code, rng)
        text = book.describe(code, kind, place, rng, group)
        anonymous = (
            not caller.named
            and channel != Ticket.Channel.INSPECTOR
            and rng.random() < (0.15 if kind == Ticket.Kind.REPORT else 0.03)
        )
        located = entry.get("located", True)
        story = Story(self, code, category, channel, created)
        if channel in (Ticket.Channel.PHONE, Ticket.Channel.COMPANY_LINE):
            story.step("report", created, self.staff.operator)
        elif channel == Ticket.Channel.INSPECTOR:
            story.step("report", created, self.staff.inspector)
        else:
            story.step("report", created)
        if kind == Ticket.Kind.CONSULT and entry.get("answers") and rng.random() < 0.6:
            story.answer()
        elif rng.random() < 0.015:
            story.reject()
        else:
            story.loop(place, group, followed=not anonymous and channel != Ticket.Channel.INSPECTOR)
        if story.end > self.cutoff:
            return None
        row = {
            "channel": channel,
            "kind": kind,
            "category": code,
            "description": text,
            "reporter_name": "" if anonymous else caller.name,
            "reporter_phone": "" if anonymous else caller.phone,
            "is_anonymous": anonymous,
            **story.fields(),
        }
        if located:
            row.update(
                address=place.address(text),
                latitude=str(place.latitude),
                longitude=str(place.longitude),
                area=place.area_code,
            )
        if channel in (Ticket.Channel.PHONE, Ticket.Channel.COMPANY_LINE):
            self.calls.append(self.call(created, caller.phone, channel, row))
        return row

    # calls

    def call(
        self, at: dt.datetime, phone: str, channel: str, row: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The call behind a phone ticket, or (row None) a call that made none."""
        rng = self.rng
        started = at - dt.timedelta(seconds=rng.randint(40, 300))
        busy = 9 <= started.hour <= 11 or 14 <= started.hour <= 16
        answered = row is not None or rng.random() > (0.16 if busy else 0.06)
        pickup = started + dt.timedelta(seconds=rng.randint(3, 45))
        ended = (
            pickup + dt.timedelta(seconds=rng.randint(60, 600))
            if answered
            else started + dt.timedelta(seconds=rng.randint(8, 70))
        )
        return {
            "call_id": f"CTI{started:%Y%m%d%H%M%S}{len(self.calls):06d}",
            "line": "company" if channel == Ticket.Channel.COMPANY_LINE else "citizen",
            "caller_phone": phone,
            "started_at": started,
            "answered_at": pickup if answered else None,
            "ended_at": ended,
            "agent": self.staff.operator if answered else None,
            "ticket": row,  # the row's number once numbers are given
        }

    def other_calls(self, count: int) -> None:
        """Calls that made no ticket: unanswered ones, and 催办 or progress questions."""
        people = self.frequent + [Caller("", self.phone()) for _ in range(2000)]
        for _ in range(max(0, count)):
            caller = self.rng.choice(people)
            at = self.moment()
            channel = "company" if self.rng.random() < 0.05 else "phone"
            self.calls.append(self.call(at, caller.phone, channel))


class Story:
    """One historical ticket's way through the loop, timed on the working-time clock."""

    def __init__(
        self, maker: HistoryMaker, code: str, category: Category, channel: str, created: dt.datetime
    ):
        self.maker, self.code, self.category, self.channel = maker, code, category, channel
        self.rng, self.clock, self.staff = maker.rng, maker.clock, maker.staff
        self.created = self.end = created
        self.steps: list[dict[str, Any]] = []
        self.follow_ups: list[dict[str, Any]] = []
        self.status = Ticket.Status.REPORTED
        self.dues: dict[str, dt.datetime] = {}
        self.extra: dict[str, Any] = {}

    def step(
        self,
        action: str,
        at: dt.datetime,
        actor: str | None = None,
        department: Department | None = None,
        note: str = "",
    ) -> dt.datetime:
        at = max(at, self.end)
        self.steps.append(
            {
                "action": action,
                "at": at,
                "actor": actor,
                "department": department.credit_code if department else None,
                "note": note,
            }
        )
        self.end = at
        return at

    def fields(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "steps": self.steps,
            "follow_ups": self.follow_ups,
            **self.dues,
            **self.extra,
        }

    def staff_of(self, department: Department) -> str | None:
        return self.staff.departments.get(department.pk)

    def line(self, key: str, **values: str) -> str:
        return self.maker.book.line(self.code, key, self.rng, **values)

    # endings

    def answer(self) -> None:
        at = self.maker.minutes(self.end, 2, 9)
        self.step("answer", at, self.staff.operator, note=self.line("answers"))
        self.status = Ticket.Status.ANSWERED

    def reject(self) -> None:
        at = self.maker.office(self.end, self.rng.uniform(0.1, 1.5))
        self.step("reject", at, self.staff.operator, note=self.line("reject"))
        self.status = Ticket.Status.REJECTED

    def loop(self, place: Place, group: dict[str, Any] | None, followed: bool) -> None:
        rng, maker = self.rng, self.maker
        if self.channel == Ticket.Channel.INSPECTOR:
            self.step("verify", maker.minutes(self.end, 15, 90), self.staff.inspector)
        if self.channel in (Ticket.Channel.PHONE, Ticket.Channel.COMPANY_LINE):
            registered = maker.minutes(self.end, 1, 5)
        else:
            registered = maker.office(self.end, rng.uniform(0.05, 1.2))
        self.step("register", registered, self.staff.operator)
        self.dues["dispatch_due"] = self.clock.deadline(self.created, 2, deadlines.HOURS)
        right = self.department(place)
        wrong = self.misdispatch(right, group)
        slow = rng.random() < 0.05
        at = maker.office(registered, rng.uniform(2.2, 5) if slow else rng.uniform(0.05, 1.6))
        if wrong is not None:
            self.step("dispatch", at, self.staff.dispatcher, wrong)
            at = maker.office(at, rng.uniform(0.2, 3))
            reason = self.line("objection", department=right.name)
            self.step("object", at, self.staff_of(wrong), note=reason)
            self.dues["dispatch_due"] = self.clock.deadline(at, 2, deadlines.HOURS)
            at = maker.minutes(at, 10, 90)
        at = self.step("dispatch", at, self.staff.dispatcher, right)
        if rng.random() < 0.03:
            self.supporting(right, group)
        self.sign(at, right)
        unhappy = 0.07 + (0.08 if wrong else 0)
        handled, late = self.handle(right)
        unhappy += 0.12 if late else 0
        if followed:
            self.follow_up(right, handled, unhappy)
        else:
            self.inspect(handled)
        if rng.random() < 0.004:
            self.reopen(right)
        self.status = Ticket.Status.CLOSED

    def department(self, place: Place) -> Department:
        """Who finally handles it: the catalogue's department, or the street office (属地)."""
        office = self.maker.offices.get(place.area_code)
        share = self.maker.book.categories[self.code].get("local", 0)
        if office is not None and self.rng.random() < share:
            return office
        return self.category.department

    def misdispatch(self, right: Department, group: dict[str, Any] | None) -> Department | None:
        """The look-alike's department for some vague texts, and a few plain slips."""
        rng, categories = self.rng, self.maker.categories
        if group is not None and rng.random() < 0.45:
            others = [
                categories[c].department
                for c in group["categories"]
                if c in categories and categories[c].department_id != right.pk
            ]
            return rng.choice(others) if others else None
        if rng.random() < 0.015:
            other = categories[rng.choice(self.maker.codes)].department
            return other if other.pk != right.pk else None
        return None

    def supporting(self, right: Department, group: dict[str, Any] | None) -> None:
        codes = group["categories"] if group else self.maker.codes
        other = self.maker.categories[self.rng.choice(codes)].department
        if other.pk != right.pk:
            self.extra["supporting"] = [other.credit_code]

    def sign(self, dispatched: dt.datetime, right: Department) -> None:
        category = self.category
        due = self.clock.deadline(dispatched, category.sign_limit, category.sign_unit)
        hours = self.clock.limit_hours(category.sign_limit, category.sign_unit)
        if self.rng.random() < 0.93:
            at = self.maker.office(dispatched, self.rng.uniform(0.03, 0.9) * hours)
        else:
            at = self.maker.office(due, self.rng.uniform(0.3, 8))
        self.dues["sign_due"] = due
        self.step("sign", at, self.staff_of(right), right)

    def handle(
        self, right: Department, start: dt.datetime | None = None
    ) -> tuple[dt.datetime, bool]:
        """处置 within the limit mostly; late ones were escalated (督办) first."""
        rng, maker, category = self.rng, self.maker, self.category
        start = start or self.end
        due = self.clock.deadline(start, category.handle_limit, category.handle_unit)
        hours = self.clock.limit_hours(category.handle_limit, category.handle_unit)
        if category.handle_unit == deadlines.DAYS and rng.random() < 0.03:
            days = rng.choice([2, 3, 5])
            asked = maker.office(start, rng.uniform(0.2, 0.6) * hours)
            reason = "需协调多个部门联合处置,申请延期"
            self.step("postpone", asked, self.staff_of(right), note=f"+{days} 工作日:{reason}")
            self.step(
                "postpone_decided",
                maker.minutes(asked, 30, 240),
                self.staff.dispatcher,
                right,
                note=f"同意延期 {days} 个工作日",
            )
            due = self.clock.add_days(due, days)
            self.extra["postponed_days"] = days
        late = rng.random() < 0.11
        if late:
            done = maker.office(due, rng.uniform(1, 20))
            self.escalate(due, done)
        else:
            done = maker.office(start, rng.uniform(0.1, 0.95) * hours)
        self.dues["handle_due"] = due
        result = self.line("results")
        done = self.step("handle", done, self.staff_of(right), right, note=result)
        self.dues["check_due"] = self.clock.deadline(done, 3, deadlines.DAYS)
        return done, done > due

    def escalate(self, due: dt.datetime, done: dt.datetime) -> None:
        when = timezone.localtime(due, self.clock.tz).strftime("%Y-%m-%d %H:%M")
        first = self.maker.minutes(due, 1, 30)
        second = self.maker.minutes(self.clock.add_hours(due, 7), 1, 30)
        level = 0
        for at, n in ((first, 1), (second, 2)):
            if at < done:
                self.step("escalate", at, note=f"{n} 级督办:办结已超过期限 {when}")
                level = n
        if level:
            self.extra["escalation_level"] = level

    def inspect(self, handled: dt.datetime) -> None:
        """No one to call back (inspector's find, anonymous): the inspector checks on site."""
        at = self.maker.office(handled, self.rng.uniform(0.3, 12))
        self.step("check", at, self.staff.inspector, note="现场核查:问题已处置到位")
        self.step("close", self.maker.minutes(at, 5, 120), self.staff.dispatcher)

    def follow_up(self, right: Department, handled: dt.datetime, unhappy: float) -> None:
        """回访 as `services.follow_up` records it: satisfied closes, the first
        unsatisfied answer returns it once (发回重办), a second one closes it anyway."""
        rng, maker = self.rng, self.maker
        at = max(self.end, maker.office(handled, rng.uniform(0.5, 14)))
        if rng.random() < 0.08:
            self.step("follow_up", at, self.staff.operator, note="未联系上")
            self.follow_ups.append(
                {
                    "at": at,
                    "channel": "phone",
                    "by": self.staff.operator,
                    "reached": False,
                    "outcome": FollowUp.Outcome.NOT_REACHED,
                }
            )
            at = maker.office(at, rng.uniform(1, 6))
        for attempt in range(2):
            at = max(at, self.end)
            channel = rng.choices(["phone", "sms", "web"], [6, 3, 1])[0]
            by = self.staff.operator if channel == "phone" else None
            happy = rng.random() >= (unhappy if attempt == 0 else 0.3)
            level = (
                rng.choices([1, 2, 3], [5, 4, 1])[0] if happy else rng.choices([4, 5], [3, 1])[0]
            )
            solved = happy or rng.random() < 0.25
            comment = self.line("satisfied" if happy else "unsatisfied")
            label = SatisfactionLevel(level).label
            note = f"回访:{'已解决' if solved else '未解决'},{label}" + (
                f"。{comment}" if comment else ""
            )
            returned = not happy and attempt == 0
            self.follow_ups.append(
                {
                    "at": at,
                    "channel": channel,
                    "by": by,
                    "reached": True,
                    "solved": solved,
                    "level": level,
                    "comment": comment,
                    "outcome": FollowUp.Outcome.RETURNED if returned else FollowUp.Outcome.CLOSED,
                }
            )
            if returned:
                at = self.step("return", at, by, right, note=f"{note}(群众不满意,发回重办)")
                handled, _ = self.handle(right, start=at)
                at = maker.office(handled, rng.uniform(0.5, 10))
                continue
            self.step("check", at, by, right, note=note)
            self.step("close", at + dt.timedelta(seconds=1), by, right, note=note)
            return

    def reopen(self, right: Department) -> None:
        at = self.end + dt.timedelta(days=self.rng.randint(2, 20), minutes=self.rng.randint(0, 600))
        note = "群众再次反映问题未解决,经核实投诉属实,重新办理"
        at = self.step("reopen", at, self.staff.dispatcher, right, note=note)
        handled, _ = self.handle(right, start=at)
        self.inspect(handled)


def load_history(actor: User, rng: random.Random, count: int) -> HistoryReport:
    """`count` closed tickets of the past year and their calls, through the import service."""
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate(now)
    clock = WorkClock(today - dt.timedelta(days=400), today + dt.timedelta(days=90))
    data = phrases()
    book = Phrasebook(data)
    atlas = Atlas(data["streets"], rng)
    maker = HistoryMaker(rng, book, atlas, clock, now, Staffing.load())
    maker.generate(count)
    return import_history(actor, maker.rows, maker.calls, source=HISTORY_SOURCE)


# ---------------------------------------------------------------- open tickets, through the loop

# (category, channel, steps, options). Steps are actions of `services.TRANSITIONS` done by
# the demo staff playing their party, plus: "dispatch:wrong" (to a look-alike's department,
# which then objects), "postpone" / "approve" / "refuse", "happy" / "unhappy" (回访 by
# phone), "handle:photo". Options: reporter (a demo citizen's phone: they report it
# themselves on the portal), photo, kind, late ("yellow", 1 or 2: moved back in time so
# the step is near or past its limit; 1 and 2 are the 督办 levels it reaches).
_TO_SIGNED = ["register", "dispatch", "sign"]
_TO_HANDLED = [*_TO_SIGNED, "handle"]
OPEN_TICKETS: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ("0101", "web", [], {"reporter": ZHANG_SAN, "photo": True}),
    ("0301", "phone", [], {}),
    ("0205", "mini", [], {"uncategorized": True}),
    ("0103", "inspector", ["verify"], {"photo": True}),
    ("0106", "inspector", ["verify"], {}),
    ("0104", "phone", ["register"], {}),
    ("0203", "app", ["register"], {"late": 1, "photo": True}),
    ("0302", "phone", ["register", "dispatch:wrong", "object"], {}),
    ("0101", "phone", ["register", "dispatch"], {}),
    ("0502", "phone", ["register", "dispatch"], {"late": 1}),
    ("0601", "company", ["register", "dispatch"], {"late": 2}),
    ("0204", "phone", ["register", "dispatch:wrong", "object", "dispatch"], {}),
    ("0402", "phone", ["register", "dispatch"], {"late": "yellow"}),
    ("0102", "phone", _TO_SIGNED, {}),
    ("0501", "phone", _TO_SIGNED, {"late": 1}),
    ("0305", "web", _TO_SIGNED, {"late": 2}),
    ("0602", "phone", _TO_SIGNED, {"late": "yellow", "kind": "complaint"}),
    ("0503", "web", [*_TO_SIGNED, "postpone"], {}),
    ("0402", "phone", [*_TO_SIGNED, "postpone", "approve"], {}),
    ("0801", "phone", [*_TO_SIGNED, "postpone", "refuse"], {}),
    ("0104", "phone", [*_TO_HANDLED, "unhappy"], {}),
    ("0401", "phone", [*_TO_HANDLED, "happy", "reopen"], {}),
    ("0105", "phone", [*_TO_SIGNED, "handle:photo"], {}),
    ("0301", "web", _TO_HANDLED, {"reporter": ZHANG_SAN}),
    ("0701", "web", _TO_HANDLED, {"late": 1}),
    ("0103", "inspector", ["verify", *_TO_HANDLED, "check"], {}),
    ("0106", "inspector", ["verify", *_TO_HANDLED, "check"], {}),
    ("0101", "phone", [*_TO_HANDLED, "happy"], {}),
    ("0102", "app", [*_TO_HANDLED, "happy"], {"reporter": "13800000002"}),
    ("0301", "inspector", ["verify", *_TO_HANDLED, "check", "close"], {}),
    ("0804", "phone", ["reject"], {}),
    ("0101", "phone", ["merge"], {}),
    ("0104", "web", ["merge"], {}),
    ("0901", "phone", ["answer"], {"kind": "consult"}),
    ("0504", "phone", ["answer"], {"kind": "consult"}),
    ("1002", "company", ["answer"], {"kind": "consult"}),
]
PHOTO_SIZE = (480, 360)


def photo(rng: random.Random, name: str = "现场照片.png") -> SimpleUploadedFile:
    """A small real PNG: a street at dusk with a lamp post, drawn with Pillow."""
    from PIL import Image, ImageDraw

    width, height = PHOTO_SIZE
    image = Image.new("RGB", PHOTO_SIZE)
    draw = ImageDraw.Draw(image)
    sky = (rng.randint(10, 40), rng.randint(20, 50), rng.randint(60, 110))
    for y in range(height * 2 // 3):
        shade = y * 60 // height
        draw.line([(0, y), (width, y)], fill=(sky[0] + shade, sky[1] + shade, sky[2] + shade))
    draw.rectangle([0, height * 2 // 3, width, height], fill=(70, 70, 75))
    for x in range(0, width, 60):
        draw.rectangle(
            [x + 10, height * 5 // 6 - 3, x + 40, height * 5 // 6 + 3], fill=(220, 220, 200)
        )
    pole = rng.randint(width // 4, width * 3 // 4)
    draw.rectangle([pole, height // 5, pole + 8, height * 2 // 3], fill=(40, 40, 40))
    draw.rectangle([pole - 30, height // 5, pole + 8, height // 5 + 6], fill=(40, 40, 40))
    draw.ellipse([pole - 40, height // 5 + 4, pole - 18, height // 5 + 18], fill=(90, 90, 80))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


class OpenTickets:
    """Builds OPEN_TICKETS with the services, each step by the demo account of its party."""

    def __init__(self, rng: random.Random, book: Phrasebook, atlas: Atlas):
        self.rng, self.book, self.atlas = rng, book, atlas
        self.staffing = Staffing.load()
        names = [
            self.staffing.operator,
            self.staffing.inspector,
            self.staffing.dispatcher,
            *self.staffing.departments.values(),
        ]
        self.users = {u.username: u for u in User.objects.filter(username__in=names)}
        self.categories = {
            c.code: c for c in Category.objects.select_related("department").filter(children=None)
        }
        self.first: dict[str, Ticket] = {}  # each category's first ticket: duplicates merge into it
        self.places: dict[int, Place] = {}
        self.late: dict[Any, list[int]] = {}
        self.skipped = 0

    def user(self, name: str) -> User:
        return self.users[name]

    def department_user(self, ticket: Ticket) -> User:
        return self.user(self.staffing.departments[ticket.lead_department_id])

    def computable(self, category: Category, steps: list[str]) -> bool:
        """Whether the limits the steps start fall in the known calendar (docs/calendar.md):
        near the end of a year whose successor is not yet published, long ones do not."""
        if all(s in ("verify", "reject", "merge", "answer") for s in steps):
            return True
        now = timezone.now()
        extra = 3 if "approve" in steps else 0
        try:
            deadlines.deadline(now, category.sign_limit, category.sign_unit)
            deadlines.deadline(now, category.handle_limit, category.handle_unit)
            deadlines.deadline(now, category.handle_limit + extra + 3, deadlines.DAYS)
        except ValidationError:
            return False
        return True

    def build(self) -> list[Ticket]:
        built = []
        for code, channel, steps, options in OPEN_TICKETS:
            category = self.categories[code]
            if not self.computable(category, steps):
                self.skipped += 1
                continue
            ticket = self.report(category, channel, {**options, "steps": steps})
            for step in steps:
                ticket = self.do(ticket, step)
            if options.get("late"):
                self.late.setdefault(options["late"], []).append(ticket.pk)
            self.first.setdefault(code, ticket)
            built.append(ticket)
        return built

    def report(self, category: Category, channel: str, options: dict[str, Any]) -> Ticket:
        rng, code = self.rng, category.code
        kind = options.get("kind") or self.book.kind(code, rng)
        reporter = options.get("reporter")
        duplicate = self.first.get(code) if "merge" in options.get("steps", ()) else None
        if duplicate is not None:  # another caller about the very same place
            place = self.places[duplicate.pk]
        else:
            place = self.atlas.place(rng, street=0 if reporter else None)
        text = self.book.describe(code, kind, place, rng)
        citizen = None
        if reporter:
            citizen = User.objects.filter(phone_index=blind_index(reporter, "phone")).first()
        if citizen is not None:
            actor, name, phone = citizen, "", ""
        elif channel == Ticket.Channel.INSPECTOR:
            actor, name, phone = self.user(self.staffing.inspector), "", ""
        else:
            actor = self.user(self.staffing.operator)
            name = rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
            phone = rng.choice(["139", "186", "158"]) + f"{rng.randrange(10**8):08d}"
        located = self.book.categories[code].get("located", True)
        ticket = services.report(
            actor,
            channel=channel,
            kind=kind,
            description=text,
            category=None if options.get("uncategorized") else category,
            address=place.address(text) if located else "",
            latitude=place.latitude if located else None,
            longitude=place.longitude if located else None,
            reporter_name=name,
            reporter_phone=phone,
            photos=[photo(rng)] if options.get("photo") else [],
        )
        self.places[ticket.pk] = place
        return ticket

    def do(self, ticket: Ticket, step: str) -> Ticket:
        s = self.staffing
        code = ticket.category.code
        if step in ("register", "reject", "merge", "answer"):
            extra: dict[str, Any] = {}
            if step == "reject":
                extra["note"] = self.book.line(code, "reject", self.rng)
            elif step == "answer":
                extra["note"] = self.book.line(code, "answers", self.rng)
            elif step == "merge":
                extra["into"] = self.first[code]
            return services.act(self.user(s.operator), ticket, step, **extra)
        if step in ("verify", "check"):
            return services.act(self.user(s.inspector), ticket, step)
        if step in ("dispatch", "close"):
            return services.act(self.user(s.dispatcher), ticket, step)
        if step == "dispatch:wrong":
            return services.act(
                self.user(s.dispatcher), ticket, "dispatch", department=self.wrong(ticket)
            )
        if step == "reopen":
            note = "群众再次来电反映问题未解决,经核实投诉属实,重新办理"
            return services.act(self.user(s.dispatcher), ticket, "reopen", note=note)
        if step == "object":
            note = self.book.line(
                code, "objection", self.rng, department=ticket.category.department.name
            )
            return services.act(self.department_user(ticket), ticket, "object", note=note)
        if step == "sign":
            return services.act(self.department_user(ticket), ticket, "sign")
        if step.startswith("handle"):
            photos = [photo(self.rng, "处置结果.png")] if step == "handle:photo" else []
            result = self.book.line(code, "results", self.rng)
            return services.act(
                self.department_user(ticket), ticket, "handle", result=result, photos=photos
            )
        if step in ("happy", "unhappy"):
            happy = step == "happy"
            services.follow_up(
                self.user(s.operator),
                ticket,
                channel=FollowUp.Channel.PHONE,
                solved=happy,
                level=1 if happy else 4,
                comment=self.book.line(code, "satisfied" if happy else "unsatisfied", self.rng),
            )
            return Ticket.objects.get(pk=ticket.pk)
        if step == "postpone":
            reason = "涉及多个部门联合执法,需协调后统一处置"
            services.request_postponement(self.department_user(ticket), ticket, 3, reason)
            return Ticket.objects.get(pk=ticket.pk)
        if step in ("approve", "refuse"):
            pending = ticket.postponements.get(status=Postponement.Status.PENDING)
            note = "" if step == "approve" else "该事项不复杂,请按原期限办结"
            services.decide_postponement(self.user(s.dispatcher), pending, step == "approve", note)
            return Ticket.objects.get(pk=ticket.pk)
        raise ValueError(f"unknown demo step {step!r}")

    def wrong(self, ticket: Ticket) -> Department:
        """A look-alike category's department (路灯 → 信号灯), as a hurried dispatcher picks."""
        for group in self.book.confusions.get(ticket.category.code, []):
            for code in group["categories"]:
                department = self.categories[code].department
                if department.pk != ticket.category.department_id:
                    return department
        return next(
            c.department
            for c in self.categories.values()
            if c.department_id not in (None, ticket.category.department_id)
        )


# ---------------------------------------------------------------- moving open tickets back

TICKET_TIMES = [
    "created_at",
    "dispatch_due",
    "sign_due",
    "handle_due",
    "check_due",
    "due_at",
    "warn_at",
    "registered_at",
    "dispatched_at",
    "signed_at",
    "handled_at",
    "checked_at",
    "closed_at",
    "followed_up_at",
]
RELATED_TIMES: list[tuple[Any, list[str]]] = [
    (TicketEvent, ["at"]),
    (TicketFile, ["uploaded_at"]),
    (FollowUp, ["at"]),
    (Postponement, ["requested_at", "decided_at", "old_due", "new_due"]),
]


def _back(value: dt.datetime | None, by: dt.timedelta) -> dt.datetime | None:
    return None if value is None else value - by


def shift(shifts: dict[int, dt.timedelta]) -> None:
    """Move whole tickets back in time: their steps, deadlines, files and follow-ups.

    The services stamp "now", so a fresh demo would have nothing near or past a limit;
    moving all of a ticket's times by the same amount keeps it consistent (as
    `cases._shift` does for cases). The audit trail keeps the real load time.
    """
    tickets = list(Ticket.objects.filter(pk__in=shifts))
    for ticket in tickets:
        for name in TICKET_TIMES:
            setattr(ticket, name, _back(getattr(ticket, name), shifts[ticket.pk]))
    Ticket.objects.bulk_update(tickets, TICKET_TIMES)
    for model, names in RELATED_TIMES:
        rows = list(model.objects.filter(ticket_id__in=shifts))
        for row in rows:
            for name in names:
                setattr(row, name, _back(getattr(row, name), shifts[row.ticket_id]))
        model.objects.bulk_update(rows, names)


def _overdue_by_weeks(pks: list[int]) -> dict[int, dt.timedelta]:
    """Whole weeks (working days stay working days) so the current step is past its limit."""
    now = timezone.now()
    shifts = {}
    for pk, due in Ticket.objects.filter(pk__in=pks).values_list("pk", "due_at"):
        weeks = max(0, (due - now).days) // 7 + 1 if due else 1
        shifts[pk] = dt.timedelta(weeks=weeks)
    return shifts


def _just_overdue(pks: list[int]) -> dict[int, dt.timedelta]:
    """An hour past the limit: 1 级督办 until the step is a working day late (level 2)."""
    now = timezone.now()
    return {
        pk: (due - now) + dt.timedelta(hours=1)
        for pk, due in Ticket.objects.filter(pk__in=pks).values_list("pk", "due_at")
        if due
    }


def _into_warning(pks: list[int]) -> dict[int, dt.timedelta]:
    """Half way between the 黄灯 instant and the limit."""
    now = timezone.now()
    return {
        pk: (warn - now) + (due - warn) / 2
        for pk, warn, due in Ticket.objects.filter(pk__in=pks).values_list(
            "pk", "warn_at", "due_at"
        )
        if warn and due and warn > now
    }


def make_late(late: dict[Any, list[int]]) -> int:
    """Level-2 tickets first (escalated twice), then level 1 (once), then the yellow ones."""
    escalated = 0
    shift(_overdue_by_weeks(late.get(2, [])))
    escalated += services.escalate_overdue() + services.escalate_overdue()
    shift(_just_overdue(late.get(1, [])))
    escalated += services.escalate_overdue()
    shift(_into_warning(late.get("yellow", [])))
    return escalated


# ---------------------------------------------------------------- the section


@dataclass
class TicketsReport(SectionReport):
    history: HistoryReport | None = None
    statuses: Counter = field(default_factory=Counter)
    routing: str = ""
    seconds: float = 0.0

    def __str__(self) -> str:
        text = super().__str__()
        if not self.statuses:
            return text
        parts = [text + f" in {self.seconds:.1f} s"]
        if self.history is not None:
            h = self.history
            parts.append(
                f"history: {h.tickets} closed tickets, {h.events} steps, {h.follow_ups} "
                f"follow-ups, {h.calls} calls imported in {h.seconds:.1f} s"
            )
        parts.append("open: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())))
        if self.counts["skipped"]:
            parts.append(
                f"{self.counts['skipped']} open tickets left out: their limits run past the "
                "known working-day calendar (docs/calendar.md)"
            )
        if self.routing:
            parts.append(self.routing)
        return "; ".join(parts)


def _quiet_outbox(after_id: int) -> int:
    """The open tickets' SMS are real outbox rows, but the people are invented (see cases)."""
    return OutboxMessage.objects.filter(
        pk__gt=after_id, sent_at__isnull=True, channel__in=(SMS, EMAIL)
    ).update(sent_at=timezone.now(), last_error="demo: not sent (generated demo ticket)")


def _train() -> str:
    try:
        model = train_and_store()
    except TrainingError as exc:
        return f"routing not trained: {exc.messages[0]}"
    return (
        f"routing trained on {model.trained_on} tickets: top-1 {model.top1:.1%}, "
        f"top-3 {model.top3:.1%} on the newest {model.tested_on}"
    )


def load_tickets(history: int = DEFAULT_HISTORY, seed: int = SEED) -> TicketsReport:
    """A year of history, routing trained on it (if no model is active), open tickets in
    every state; nothing when 张三 already has tickets (a second load)."""
    report = TicketsReport("12345 tickets")
    if Ticket.objects.filter(reporter_phone_index=blind_index(ZHANG_SAN, "phone")).exists():
        report.counts["unchanged"] = Ticket.objects.count()
        return report
    started = time.monotonic()
    rng = random.Random(seed)
    centre = departments_by_key()[CENTRE_KEY]
    admin = User.objects.get(username="admin")
    last_outbox = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # load_demo runs without YIWANG_DEMO; the demo centre's staff act here all the same.
    with transaction.atomic(), override_settings(YIWANG_HOTLINE_CENTRE=centre.credit_code):
        if history > 0:
            report.history = load_history(admin, rng, history)
        if not RoutingModel.objects.filter(is_active=True).exists():
            report.routing = _train()
        data = phrases()
        builder = OpenTickets(rng, Phrasebook(data), Atlas(data["streets"], rng))
        built = builder.build()
        report.counts["escalations"] = make_late(builder.late)
        report.counts["quiet_outbox"] = _quiet_outbox(last_outbox)
    report.counts["created"] = len(built) + (report.history.tickets if report.history else 0)
    report.counts["skipped"] = builder.skipped
    report.statuses.update(
        Ticket.objects.filter(pk__in=[t.pk for t in built]).values_list("status", flat=True)
    )
    report.seconds = time.monotonic() - started
    return report
