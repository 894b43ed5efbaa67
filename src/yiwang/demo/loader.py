"""Loads the demo city (示范市) through the same services real users and admins call.

Each section runs in one transaction and is idempotent: what already exists is
counted as unchanged, what differs from the data files is updated through the
owning app's service, so demo data passes the same validation and audit as
real data (STYLE.md). The actor is the system (`None`), as for any management
command run by the operator.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.catalog.exchange import ImportReport, import_catalog
from yiwang.identity import services as identity
from yiwang.identity.models import Department, OneTimeCode, StaffRole, User
from yiwang.notify.models import OutboxMessage

DATA_DIR = Path(__file__).resolve().parent / "data"
# One password for every demo login; documented in docs/demo.md and the banner.
DEMO_PASSWORD = "Yiwang#2026"  # noqa: S105 (public demo password, by design)
DEPARTMENT_KEYS = (
    "name",
    "short_name",
    "level",
    "nature",
    "credit_code",
    "region_code",
    "address",
    "phone",
    "supervision_phone",
    "office_hours",
    "sort_order",
)


@dataclass
class SectionReport:
    name: str
    counts: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        c = self.counts
        state = "already loaded" if not c["created"] and not c["updated"] else "loaded"
        return (
            f"{self.name}: {state} (created {c['created']}, updated {c['updated']}, "
            f"unchanged {c['unchanged']})"
        )


def read_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


def read_catalog() -> dict[str, Any]:
    return json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))


def department_rows() -> list[dict[str, Any]]:
    return read_yaml("departments.yaml")["departments"]


def accounts() -> dict[str, list[dict[str, Any]]]:
    return read_yaml("accounts.yaml")


def departments_by_key() -> dict[str, Department]:
    codes = {row["key"]: row["credit_code"] for row in department_rows()}
    found = {d.credit_code: d for d in Department.objects.filter(credit_code__in=codes.values())}
    return {key: found[code] for key, code in codes.items() if code in found}


@transaction.atomic
def load_departments() -> SectionReport:
    """Create the tree parents first (rows are ordered so); departments match on credit code."""
    report = SectionReport("departments")
    loaded: dict[str, Department] = {}
    for row in department_rows():
        fields = {k: row[k] for k in DEPARTMENT_KEYS}
        fields["parent"] = loaded[row["parent"]] if row["parent"] else None
        existing = Department.objects.filter(credit_code=row["credit_code"]).first()
        if existing is None:
            loaded[row["key"]] = identity.create_department(None, **fields)
            report.counts["created"] += 1
            continue
        differing = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        if differing:
            existing = identity.update_department(None, existing, **differing)
            report.counts["updated"] += 1
        else:
            report.counts["unchanged"] += 1
        loaded[row["key"]] = existing
    return report


def load_catalog() -> SectionReport:
    """Through the import service, itself all-or-nothing and idempotent."""
    result: ImportReport = import_catalog(read_catalog(), None)
    report = SectionReport("catalog")
    report.counts["created"] = sum(result.created.values())
    report.counts["updated"] = sum(result.updated.values()) + result.status_changes
    report.counts["unchanged"] = sum(result.unchanged.values())
    return report


def _registration_code(phone: str) -> str | None:
    """Ask for an SMS code and read it from the outbox, as the phone's owner would read the SMS."""
    if not settings.YIWANG_REQUIRE_PHONE_CODE:
        return None
    otp = identity.send_phone_code(phone, OneTimeCode.Purpose.REGISTER)
    message = OutboxMessage.objects.get(dedupe_key=f"otp:{otp.pk}")
    # Read here, so the worker need not print it among the codes a demo user waits for.
    OutboxMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now(), last_error="demo: code read by load_demo"
    )
    return re.search(r"\d{6}", json.loads(message.payload)["text"]).group()


def _ensure_person(row: dict[str, Any], report: SectionReport, **company: str) -> User:
    user = identity.find_user_by_phone(row["phone"])
    if user is None:
        register = identity.register_company_agent if company else identity.register_citizen
        user = register(
            phone=row["phone"],
            password=DEMO_PASSWORD,
            real_name=row["real_name"],
            id_number=row["id_number"],
            phone_code=_registration_code(row["phone"]),
            **company,
        )
        report.counts["created"] += 1
    else:
        report.counts["unchanged"] += 1
    if not user.is_real_name_verified:
        user = identity.verify_real_name(
            user, real_name=row["real_name"], id_number=row["id_number"]
        )
    return user


def _ensure_staff(row: dict[str, Any], department: Department, report: SectionReport) -> User:
    user = User.objects.filter(username=row["username"]).first()
    if user is None:
        report.counts["created"] += 1
        return identity.create_staff(
            None,
            username=row["username"],
            password=DEMO_PASSWORD,
            real_name=row["real_name"],
            phone=row["phone"],
            department=department,
            roles=row.get("roles", []),
        )
    held = set(
        StaffRole.objects.filter(user=user, department=department).values_list("role", flat=True)
    )
    missing = [role for role in row.get("roles", []) if role not in held]
    for role in missing:
        identity.grant_role(None, user, department, role)
    report.counts["updated" if missing else "unchanged"] += 1
    return user


def _ensure_lead(department: Department, user: User, report: SectionReport) -> None:
    """The department's decider leads it: overdue cases are escalated to the lead."""
    if department.lead_id is None:
        identity.update_department(None, department, lead=user)
        report.counts["updated"] += 1


@transaction.atomic
def load_accounts() -> SectionReport:
    report = SectionReport("accounts")
    data = accounts()
    departments = departments_by_key()
    for row in data["citizens"]:
        _ensure_person(row, report)
    for row in data["company_agents"]:
        _ensure_person(
            row, report, company_name=row["company_name"], credit_code=row["credit_code"]
        )
    for row in data["staff"]:
        user = _ensure_staff(row, departments[row["department"]], report)
        if "decision" in row.get("roles", []):
            _ensure_lead(departments[row["department"]], user, report)
    for row in data["platform_admins"]:
        user = _ensure_staff(row, departments[row["department"]], report)
        identity.make_platform_admin(None, user)
    return report


def load_all(cases: int = 0, tickets: int = 0) -> list[SectionReport]:
    """Every section in dependency order; on the first load, `cases` demo cases and `tickets`
    historical 12345 tickets (0: none; the open tickets in every state come regardless)."""
    from yiwang.demo import hotline, open311, people, processes
    from yiwang.demo.cases import load_cases
    from yiwang.demo.hotline_tickets import load_tickets
    from yiwang.demo.licenses import load_licenses

    reports = [load_departments(), load_catalog(), load_accounts()]
    reports += [processes.ensure_processes(), processes.load_setups(), load_licenses()]
    reports += [hotline.load_categories(), hotline.load_areas(), hotline.load_knowledge()]
    reports += [open311.load_open311()]
    applicants, citizens, companies = people.load_people()
    reports += [applicants, load_cases(cases, citizens, companies)]
    reports += [load_tickets(history=tickets)]
    return reports
