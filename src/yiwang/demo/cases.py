"""Demo cases (办件) in every state, built through the case services.

Every case is created, submitted and handled with `yiwang.cases.services`, by
the demo staff holding each step's role, so the engine state, the open steps,
the timeline, the audit trail and the outbox are the real thing
(`consistency_problems(case) == []` holds for all of them). Only afterwards are
dates moved into the past (`_shift`), because the services always stamp "now".

The same seed gives the same cases; the whole section is skipped once demo
applicants have cases, so a second `load_demo` adds nothing.
"""

import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from yiwang.cases import deadlines, formschema, selectors
from yiwang.cases import services as cases
from yiwang.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseFile, ListingProcess, Task
from yiwang.catalog.models import ServiceListing
from yiwang.demo.formdata import form_values
from yiwang.demo.loader import SectionReport, accounts
from yiwang.identity import services as identity
from yiwang.identity.models import StaffRole, User
from yiwang.notify.models import OutboxMessage
from yiwang.notify.services import EMAIL, SMS

DEFAULT_COUNT = 300
SEED = 2026
FALLBACK_BASIS = "《中华人民共和国行政许可法》第三十八条"

# A scenario is the path a case takes: ("act", step, action) done by the step's role,
# ("fix",) the applicant's 补正, ("conclude",), ("deliver",), ("withdraw",).
# `None` leaves it a draft. Step names are those of default_approval (and of the manual
# path of instant_approval); parallel_review has its own table below.
Op = tuple[str, ...]
PRE = [("act", "precheck", "pass")]
ACCEPT = [*PRE, ("act", "accept", "accept")]
REVIEWED = [*ACCEPT, ("act", "review", "pass")]
GRANTED = [*REVIEWED, ("act", "decision", "grant")]
DENIED = [*ACCEPT, ("act", "review", "object"), ("act", "decision", "deny")]
FIXED = [*PRE, ("act", "accept", "correct"), ("fix",), ("act", "accept", "accept")]
SCENARIOS: dict[str, list[Op] | None] = {
    "draft": None,
    "submitted": [],
    "prechecked": PRE,
    "correction_accept": [*PRE, ("act", "accept", "correct")],
    "correction_review": [*ACCEPT, ("act", "review", "correct")],
    "accepted": ACCEPT,
    "accepted_after_fix": FIXED,
    "reviewed": REVIEWED,
    "decided": GRANTED,
    "decided_denied": DENIED,
    "concluded": [*GRANTED, ("conclude",)],
    "concluded_denied": [*DENIED, ("conclude",)],
    "delivered": [*GRANTED, ("conclude",), ("deliver",)],
    "delivered_after_fix": [
        *FIXED,
        ("act", "review", "pass"),
        ("act", "decision", "grant"),
        ("conclude",),
        ("deliver",),
    ],
    "refused": [*PRE, ("act", "accept", "refuse")],
    "returned": [("act", "precheck", "return")],
    "withdrawn": [("withdraw",)],
    "withdrawn_in_review": [*ACCEPT, ("withdraw",)],
}
P_ACCEPT = [("act", "accept", "accept")]
P_REVIEWED = [*P_ACCEPT, ("act", "review_lead", "pass"), ("act", "review_joint", "pass")]
P_GRANTED = [*P_REVIEWED, ("act", "decision", "grant")]
PARALLEL: dict[str, list[Op] | None] = {
    "draft": None,
    "submitted": [],
    "accepted": P_ACCEPT,
    "half_reviewed": [*P_ACCEPT, ("act", "review_lead", "pass")],
    "reviewed": P_REVIEWED,
    "decided": P_GRANTED,
    "concluded": [*P_GRANTED, ("conclude",)],
    "delivered": [*P_GRANTED, ("conclude",), ("deliver",)],
    "refused": [("act", "accept", "refuse")],
    "withdrawn": [("withdraw",)],
}
# How often each scenario comes up once every one has been shown (weights).
WEIGHTS = {
    "draft": 3,
    "submitted": 8,
    "prechecked": 5,
    "correction_accept": 4,
    "correction_review": 3,
    "accepted": 12,
    "accepted_after_fix": 3,
    "half_reviewed": 3,
    "reviewed": 7,
    "decided": 3,
    "decided_denied": 1,
    "concluded": 8,
    "concluded_denied": 2,
    "delivered": 18,
    "delivered_after_fix": 4,
    "refused": 3,
    "returned": 2,
    "withdrawn": 3,
    "withdrawn_in_review": 1,
    "instant": 40,  # on the allowance listings most applications are decided by the rules
}
# The named demo citizens' own cases: recent, so the portal shows a sensible "我的办件".
# (phone, listing name, scenario)
OWN_CASES = [
    ("13800000001", "居住证办理", "correction_accept"),
    ("13800000001", "养犬登记", "delivered"),
    ("13800000001", "社会保障卡申领", "accepted"),
    ("13800000001", "失业保险金申领", "draft"),
    ("13800000002", "住房公积金提取", "submitted"),
    ("13800000003", "食品经营许可", "accepted"),
    ("13800000003", "企业设立登记", "delivered"),
]

OPINIONS = {
    ("precheck", "pass"): ["材料齐全,预审通过", "预审通过,转受理", "申请信息完整,同意受理"],
    ("precheck", "return"): [
        "申请表多项内容空白且材料与申请事项不符,请核对后重新申请",
        "上传的材料均为空白页,请按材料清单重新准备后再申请",
    ],
    ("accept", "accept"): ["材料齐全,符合法定形式,予以受理", "经核对,申请材料完整,同意受理"],
    ("accept", "refuse"): [
        "申请事项不属于本机关职权范围,请向户籍所在地主管部门申请",
        "申请人不符合申请条件(未满足居住年限要求),不予受理",
    ],
    ("review", "pass"): [
        "经审查,申请材料真实有效,符合办理条件,建议准予",
        "现场核查情况与申报一致,同意",
        "审查通过,拟同意办理",
    ],
    ("review", "object"): [
        "经核查,申请人家庭收入高于本市最低生活保障标准,建议不予办理",
        "提交的证明材料与实际情况不符,建议不予许可",
    ],
    ("decision", "grant"): ["同意,准予办理", "经研究,准予许可", "同意审查意见,准予办理"],
    ("decision", "deny"): [
        "经审查,申请人不符合法定条件,决定不予办理",
        "同意审查意见,不予许可",
    ],
}
CORRECTION_REASONS = [
    "“{name}”扫描件不清晰,请重新上传清晰、完整的彩色扫描件",
    "“{name}”缺少签字或盖章页,请补充后重新上传",
    "“{name}”已过有效期,请上传有效期内的材料",
]


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF (with a correct xref table) carrying `text` in ASCII."""
    safe = re.sub(r"[^A-Za-z0-9 .:_-]", "", text)[:80]
    stream = f"BT /F1 11 Tf 56 780 Td (Yiwang demo material: {safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_pdf(text), content_type="application/pdf")


@dataclass
class Plan:
    listing: ServiceListing
    applicant: User
    scenario: str
    answers: dict[str, Any]  # form answers beyond the prefill
    own: bool = False  # a named demo account's case: kept recent


class Builder:
    """Walks planned cases through the services with the demo staff of each department."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.staff: dict[tuple[int, str], User] = {}
        for role in StaffRole.objects.select_related("user").order_by("user__username"):
            self.staff.setdefault((role.department_id, role.role), role.user)

    def actor(self, department_id: int | None, role: str) -> User:
        try:
            return self.staff[(department_id, role)]
        except KeyError:
            raise ValidationError(
                {
                    "staff": [
                        f"部门 {department_id} 没有“{role}”岗位的演示账号,请在 accounts.yaml 中补充"
                    ]
                }
            ) from None

    def build(self, plan: Plan) -> Case:
        listing, applicant = plan.listing, plan.applicant
        case = cases.create_draft(applicant, listing, plan.answers)
        for requirement in listing.materials.all():
            if requirement.required or self.rng.random() < 0.5:
                self._upload(case, applicant, requirement)
        path = scenario_path(listing, plan.scenario)
        if path is None:
            return case
        case = cases.submit(applicant, case)
        for op in path:
            case = self._do(case, op)
        return case

    def _upload(self, case: Case, applicant: User, requirement: Any) -> None:
        text = f"case {case.pk} {requirement.code} {self.rng.random():.6f}"
        cases.add_material(
            applicant, case, requirement, pdf_upload(f"{requirement.name}.pdf", text)
        )

    def _do(self, case: Case, op: Op) -> Case:
        kind = op[0]
        if kind == "act":
            return self._act(case, op[1], op[2])
        if kind == "fix":
            return self._fix(case)
        if kind == "conclude":
            actor = self.actor(case.department_id, StaffRole.Role.INTAKE)
            note = "决定书已制作,结果已推送至申请人“我的办件”"
            result = pdf_upload("决定书.pdf", f"decision {case.number}")
            return cases.conclude(actor, case, note, result if case.result == "granted" else None)
        if kind == "deliver":
            actor = self.actor(case.department_id, StaffRole.Role.INTAKE)
            method = self.rng.choice(["electronic", "electronic", "mail", "pickup"])
            return cases.deliver(actor, case, method, "已按申请人选择的方式送达")
        if kind == "withdraw":
            reason = self.rng.choice(["材料准备有误,重新准备后再申请", "情况有变化,暂不办理"])
            return cases.withdraw(case.applicant, case, reason)
        raise ValueError(f"unknown demo step {op!r}")

    def _act(self, case: Case, step: str, action: str) -> Case:
        task = case.tasks.get(step=step, completed_at__isnull=True)
        actor = self.actor(task.department_id, task.role)
        kind = cases.step_kind(step)
        kwargs: dict[str, Any] = {
            "opinion": self.rng.choice(OPINIONS.get((kind, action), ["同意"]))
        }
        if action == "correct":
            kwargs["items"] = self._correction_items(case)
            kwargs["opinion"] = "材料需补正,已一次性告知"
        if kind == "decision":
            kwargs["legal_basis"] = legal_basis(case.listing)
        return cases.act(actor, task, action, **kwargs)

    def _correction_items(self, case: Case) -> list[dict[str, str]]:
        requirements = [r for r in case.listing.materials.all() if r.required]
        chosen = self.rng.sample(requirements, k=min(len(requirements), self.rng.randint(1, 2)))
        return [
            {"material": r.code, "reason": self.rng.choice(CORRECTION_REASONS).format(name=r.name)}
            for r in chosen
        ]

    def _fix(self, case: Case) -> Case:
        """The applicant uploads again every material named in the correction notice."""
        codes = {item.get("material") for item in case.correction_items}
        for requirement in case.listing.materials.filter(code__in=codes):
            self._upload(case, case.applicant, requirement)
        return cases.resubmit(case.applicant, case)


def legal_basis(listing: ServiceListing) -> str:
    """The first law cited in the item's basis (up to its article), else the licensing law."""
    match = re.match(r"《[^》]+》[^:;。,、《]*", listing.item.legal_basis or "")
    return match.group() if match else FALLBACK_BASIS


def family(listing: ServiceListing) -> str:
    key = cases.setup_for(listing).process_key
    if key.startswith("parallel"):
        return "parallel"
    return "instant" if key.startswith("instant") else "default"


def scenario_path(listing: ServiceListing, scenario: str) -> list[Op] | None:
    if scenario == "instant":
        return []
    table = PARALLEL if family(listing) == "parallel" else SCENARIOS
    return table[scenario]


def needs_clock(path: list[Op] | None) -> bool:
    return any(op[:3] == ("act", "accept", "accept") for op in path or [])


def _calendar_allows(listing: ServiceListing) -> bool:
    """Whether acceptance can compute the limits today (the calendar ends at a known year)."""
    days = max(listing.statutory_days, listing.committed_days, 1)
    try:
        deadlines.limit(timezone.localdate(), days)
    except ValidationError:
        return False
    return True


def _is_company_form(schema: dict) -> bool:
    return any(p.get("x-prefill") == "credit_code" for p in schema.get("properties", {}).values())


def _age(user: User) -> int:
    born = formschema._birth_date(user.id_number or "")
    return formschema._age(born, timezone.localdate()) if born else 0


class Planner:
    """Which listing, applicant and scenario each demo case gets."""

    def __init__(self, rng: random.Random, citizens: Sequence[User], companies: Sequence[User]):
        self.rng = rng
        setups = ListingProcess.objects.select_related("listing", "listing__item")
        listings = [s.listing for s in setups if cases.can_apply(s.listing)]
        self.calendar_ok = {listing.pk: _calendar_allows(listing) for listing in listings}
        self.listings = listings
        self.citizens = [u for u in citizens if _age(u) < 60]
        self.elderly = [u for u in citizens if _age(u) >= 60]
        self.companies = list(companies)

    def applicants_for(self, listing: ServiceListing) -> list[User]:
        schema = cases.schema_of(listing)
        if _is_company_form(schema):
            return self.companies
        return self.elderly if family(listing) == "instant" else self.citizens

    def scenarios_for(self, listing: ServiceListing) -> list[str]:
        table = PARALLEL if family(listing) == "parallel" else SCENARIOS
        names = list(table)
        if family(listing) == "instant":
            names.append("instant")
        if not self.calendar_ok[listing.pk]:
            # Accepting would compute a limit past the known working-day calendar (see
            # docs/calendar.md): such a listing only gets cases that stop before acceptance.
            names = [n for n in names if not needs_clock(scenario_path(listing, n))]
        return names

    def plan(self, listing: ServiceListing, scenario: str, applicant: User | None = None) -> Plan:
        applicant = applicant or self.rng.choice(self.applicants_for(listing))
        answers = form_values(cases.schema_of(listing), applicant, self.rng)
        if family(listing) == "instant":
            # The 秒批 table grants residents aged 60+ who take no other allowance; the
            # manual-path cases are the ones who do, so people decide them.
            answers["residence_in_city"] = True
            answers["receives_other_allowance"] = scenario != "instant"
        return Plan(listing, applicant, scenario, answers)

    def plans(self, count: int, own: Iterable[Plan]) -> list[Plan]:
        plans = list(own)
        every = [(listing, s) for listing in self.listings for s in self.scenarios_for(listing)]
        # Every state at least once (spread over the listings), then a weighted mix.
        seen: set[str] = set()
        self.rng.shuffle(every)
        for listing, scenario in every:
            if scenario not in seen:
                seen.add(scenario)
                plans.append(self.plan(listing, scenario))
        while len(plans) < count:
            listing = self.rng.choice(self.listings)
            names = self.scenarios_for(listing)
            weights = [WEIGHTS.get(n, 6) for n in names]
            plans.append(self.plan(listing, self.rng.choices(names, weights)[0]))
        return plans[:count]


def own_plans(planner: Planner) -> list[Plan]:
    by_name: dict[str, ServiceListing] = {}
    for listing in planner.listings:
        by_name.setdefault(listing.item.name, listing)
    plans = []
    for phone, name, scenario in OWN_CASES:
        user = identity.find_user_by_phone(phone)
        if user is None or name not in by_name:
            continue
        if scenario not in planner.scenarios_for(by_name[name]):
            continue
        plan = planner.plan(by_name[name], scenario, user)
        plan.own = True
        plans.append(plan)
    return plans


# ---------------------------------------------------------------- moving cases into the past

CASE_TIMES = [
    "created_at",
    "submitted_at",
    "accepted_at",
    "decided_at",
    "concluded_at",
    "delivered_at",
    "withdrawn_at",
    "paused_at",
    "updated_at",
]
CASE_DATES = ["due_date", "warn_date", "statutory_due_date"]


def _minus(value: Any, days: int) -> Any:
    return None if value is None else value - dt.timedelta(days=days)


def _shift(shifts: dict[int, int]) -> None:
    """Move whole cases `days` back in time: their own dates, steps, timeline and files.

    The services stamp everything with "now", so a freshly built demo would have
    every case submitted today and nothing overdue. Moving all of a case's dates by
    the same number of days keeps it internally consistent (the order of its events,
    the limits counted from acceptance, the paused time), while the audit trail,
    which is insert-only, keeps the real load time.
    """
    shifts = {pk: days for pk, days in shifts.items() if days}
    if not shifts:
        return
    rows = list(Case.objects.filter(pk__in=shifts).only("pk", *CASE_TIMES, *CASE_DATES))
    for row in rows:
        for name in CASE_TIMES + CASE_DATES:
            setattr(row, name, _minus(getattr(row, name), shifts[row.pk]))
    Case.objects.bulk_update(rows, CASE_TIMES + CASE_DATES, batch_size=200)
    tasks = list(Task.objects.filter(case_id__in=shifts))
    for task in tasks:
        for name in ("created_at", "completed_at", "due_date", "warn_date"):
            setattr(task, name, _minus(getattr(task, name), shifts[task.case_id]))
    Task.objects.bulk_update(
        tasks, ["created_at", "completed_at", "due_date", "warn_date"], batch_size=500
    )
    events = list(CaseEvent.objects.filter(case_id__in=shifts).only("pk", "case_id", "at"))
    for event in events:
        event.at = _minus(event.at, shifts[event.case_id])
    CaseEvent.objects.bulk_update(events, ["at"], batch_size=500)
    files = list(CaseFile.objects.filter(case_id__in=shifts).only("pk", "case_id", "uploaded_at"))
    for f in files:
        f.uploaded_at = _minus(f.uploaded_at, shifts[f.case_id])
    CaseFile.objects.bulk_update(files, ["uploaded_at"], batch_size=500)


def _limit_dates(case: Case, open_tasks: dict[int, list[Task]]) -> tuple[dt.date, dt.date] | None:
    """The limit the console colours this case by: the case's, else its earliest open step's."""
    if case.due_date:
        return case.due_date, case.warn_date or case.due_date
    dated = [t for t in open_tasks.get(case.pk, []) if t.due_date]
    if not dated:
        return None
    first = min(dated, key=lambda t: t.due_date)
    return first.due_date, first.warn_date or first.due_date


def plan_shifts(built: list[tuple[Plan, Case]], rng: random.Random) -> dict[int, int]:
    """Days to move each case back: closed ones by weeks, open ones so ~10% red, ~10% yellow."""
    today = timezone.localdate()
    shifts: dict[int, int] = {}
    open_cases = []
    open_count = sum(1 for _, case in built if case.status in OPEN_STATUSES)
    for plan, case in built:
        if plan.own:
            shifts[case.pk] = 0 if case.status == Case.Status.CORRECTION else rng.randint(0, 2)
        elif case.status in OPEN_STATUSES and not case.paused_at:
            open_cases.append(case)
        elif case.status in OPEN_STATUSES:  # 补正: the clock is paused since the request
            shifts[case.pk] = rng.randint(1, 12)
        else:
            shifts[case.pk] = rng.randint(1, 75)
    open_tasks: dict[int, list[Task]] = {}
    for task in Task.objects.filter(case__in=[c.pk for c in open_cases], completed_at__isnull=True):
        open_tasks.setdefault(task.case_id, []).append(task)
    # Accepted cases first: their own limit colours the case in lists; a case not yet
    # accepted is coloured by its step in the inbox.
    rng.shuffle(open_cases)
    open_cases.sort(key=lambda c: c.status != Case.Status.ACCEPTED)
    share = round(open_count * 0.1)
    for n, case in enumerate(open_cases):
        limit = _limit_dates(case, open_tasks)
        if limit is None:
            shifts[case.pk] = rng.randint(0, 3)
            continue
        due_in, warn_in = (limit[0] - today).days, (limit[1] - today).days
        if n < share:  # 红灯: past the limit by a few days
            shifts[case.pk] = max(0, due_in) + rng.randint(1, 6)
        elif n < 2 * share:  # 黄灯: between the warning date and the limit
            shifts[case.pk] = max(0, warn_in)
        else:  # 绿灯 where the limit allows it
            shifts[case.pk] = rng.randint(0, max(0, warn_in - 1))
    return shifts


# ---------------------------------------------------------------- the section


def demo_applicants(citizens: Sequence[User], companies: Sequence[User]) -> list[User]:
    data = accounts()
    phones = [row["phone"] for row in (*data["citizens"], *data["company_agents"])]
    named = [u for u in (identity.find_user_by_phone(p) for p in phones) if u is not None]
    return [*named, *citizens, *companies]


def _quiet_outbox(after_id: int) -> int:
    """Mark the demo's own SMS and email as sent.

    The cases' notifications are real outbox rows (in-app ones reach the portal's
    inbox through the worker as usual), but the console SMS sender would print
    several hundred lines at the first `make run`, burying the one-time codes the
    demo user needs to read there; the people are invented, so nothing is lost.
    """
    return OutboxMessage.objects.filter(
        pk__gt=after_id, sent_at__isnull=True, channel__in=(SMS, EMAIL)
    ).update(sent_at=timezone.now(), last_error="demo: not sent (generated demo case)")


@dataclass
class CasesReport(SectionReport):
    statuses: Counter = field(default_factory=Counter)
    colours: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.name}: none asked for (--cases 0)"
        text = super().__str__()
        if not self.statuses:
            return text
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        colours = ", ".join(f"{k} {v}" for k, v in sorted(self.colours.items()))
        return (
            f"{text} in {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU): {statuses}; "
            f"open cases by deadline colour: {colours}"
        )


def load_cases(
    count: int, citizens: Sequence[User], companies: Sequence[User], seed: int = SEED
) -> CasesReport:
    """`count` cases in every state (if `count` allows), unless the demo already has cases."""
    report = CasesReport("demo cases")
    applicants = demo_applicants(citizens, companies)
    if count <= 0:
        report.skipped = True
        return report
    if Case.objects.filter(applicant__in=applicants).exists():
        report.counts["unchanged"] = Case.objects.filter(applicant__in=applicants).count()
        return report
    started, cpu = time.monotonic(), time.process_time()
    rng = random.Random(seed)
    # The named accounts get only their own few cases (OWN_CASES); the rest is spread
    # over the generated applicants.
    planner = Planner(rng, citizens, companies)
    plans = planner.plans(count, own_plans(planner))
    builder = Builder(rng)
    last_outbox = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    built: list[tuple[Plan, Case]] = []
    with transaction.atomic():
        for plan in plans:
            built.append((plan, builder.build(plan)))
        _shift(plan_shifts(built, rng))
        report.counts["quiet_outbox"] = _quiet_outbox(last_outbox)
    report.counts["created"] = len(built)
    report.statuses.update(
        f"{case.status}/{case.result}" if case.result else case.status
        for case in Case.objects.filter(pk__in=[c.pk for _, c in built])
    )
    report.colours = colour_counts()
    report.seconds = time.monotonic() - started
    report.cpu_seconds = time.process_time() - cpu
    return report


def colour_counts(today: dt.date | None = None) -> Counter:
    """Open cases by deadline colour, as the console shows them (for reports and tests)."""
    today = today or timezone.localdate()
    counts: Counter = Counter()
    for case in Case.objects.filter(status__in=OPEN_STATUSES):
        counts[selectors.case_colour(case, today) or "none"] += 1
    return counts
