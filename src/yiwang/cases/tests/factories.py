"""Cases in any state, built through the real services (so tests exercise the engine).

`case_in(state)` walks a case there step by step with staff it creates on the way:
`case_in("accepted")`, `case_in("correction", at="review")`, `case_in("concluded")`.
"""

import base64

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from yiwang.cases import services
from yiwang.cases.models import Case, ListingProcess, Task
from yiwang.catalog.tests.factories import MaterialRequirementFactory, ServiceListingFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    CompanyAgentFactory,
    StaffFactory,
)

SCHEMA = {
    "type": "object",
    "x-order": ["applicant_name", "id_number", "shop_name", "staff_count"],
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人", "x-prefill": "real_name"},
        "id_number": {"type": "string", "title": "身份证号码", "x-prefill": "id_number"},
        "shop_name": {"type": "string", "title": "店铺名称", "minLength": 2, "maxLength": 50},
        "staff_count": {"type": "integer", "title": "从业人数", "minimum": 1},
    },
    "required": ["shop_name"],
    "additionalProperties": False,
}
FORM = {"shop_name": "老王小吃", "staff_count": 3}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class ListingProcessFactory(DjangoModelFactory):
    class Meta:
        model = ListingProcess

    listing = factory.SubFactory(ServiceListingFactory)
    process_key = "default_approval"
    form_schema = factory.LazyFunction(lambda: dict(SCHEMA))


def verified_citizen(**kwargs):
    return CitizenFactory(
        real_name_verified_at=timezone.now(), phone_verified_at=timezone.now(), **kwargs
    )


def verified_company_agent(**kwargs):
    return CompanyAgentFactory(
        real_name_verified_at=timezone.now(), phone_verified_at=timezone.now(), **kwargs
    )


def listing_with_process(process_key: str = "default_approval", materials: int = 1, **kwargs):
    setup = ListingProcessFactory(process_key=process_key, **kwargs)
    for _ in range(materials):
        MaterialRequirementFactory(listing=setup.listing)
    return setup.listing


def draft(listing=None, applicant=None, data=None) -> Case:
    listing = listing or listing_with_process()
    applicant = applicant or verified_citizen()
    case = services.create_draft(applicant, listing, FORM if data is None else data)
    for requirement in listing.materials.all():
        services.add_material(applicant, case, requirement, pdf())
    return case


def submitted(listing=None, applicant=None, data=None) -> Case:
    case = draft(listing, applicant, data)
    return services.submit(case.applicant, case)


def staff(case: Case, role: str, department=None):
    return StaffFactory(department=department or case.department, roles=[role])


def open_task(case: Case, step: str | None = None) -> Task:
    tasks = case.tasks.filter(completed_at__isnull=True)
    if step:
        tasks = tasks.filter(step=step)
    return tasks.get()


def step(case: Case, step_name: str, action: str, role: str, **kwargs) -> Case:
    task = open_task(case, step_name)
    actor = staff(case, role, department=task.department)
    kwargs.setdefault("opinion", "同意")
    if action in ("grant", "deny"):
        kwargs.setdefault("legal_basis", "《中华人民共和国行政许可法》第三十八条")
    if action == "correct":
        kwargs.setdefault("items", [{"reason": "营业执照复印件不清晰,请重新上传"}])
    return services.act(actor, task, action, **kwargs)


PATHS = {
    "submitted": [],
    "accepted": [("precheck", "pass", "intake"), ("accept", "accept", "intake")],
    "reviewed": [
        ("precheck", "pass", "intake"),
        ("accept", "accept", "intake"),
        ("review", "pass", "review"),
    ],
    "decided": [
        ("precheck", "pass", "intake"),
        ("accept", "accept", "intake"),
        ("review", "pass", "review"),
        ("decision", "grant", "decision"),
    ],
    "refused": [("precheck", "pass", "intake"), ("accept", "refuse", "intake")],
}


def case_in(state: str, listing=None, applicant=None, at: str = "accept") -> Case:
    """A case walked to `state`; `correction` is requested at step `at` (accept or review)."""
    case = submitted(listing, applicant)
    if state == "correction":
        path = PATHS["accepted"][:1] if at == "accept" else PATHS["accepted"]
        for name, action, role in path:
            case = step(case, name, action, role)
        return step(case, at, "correct", "intake" if at == "accept" else "review")
    if state in ("concluded", "delivered"):
        for name, action, role in PATHS["decided"]:
            case = step(case, name, action, role)
        case = services.conclude(staff(case, "intake"), case, "决定书已制作")
        if state == "delivered":
            case = services.deliver(staff(case, "intake"), case, "electronic")
        return case
    if state == "withdrawn":
        return services.withdraw(case.applicant, case, "不需要了")
    for name, action, role in PATHS[state]:
        case = step(case, name, action, role)
    return case
