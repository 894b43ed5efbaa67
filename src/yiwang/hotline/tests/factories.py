"""A small hotline world for tests: the 12345 centre with its staff, one department with a
leaf category, a citizen; and tickets brought to any status through the services."""

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.hotline import services
from yiwang.hotline.models import Category, Ticket
from yiwang.identity.models import Department, User
from yiwang.identity.tests.factories import CitizenFactory, DepartmentFactory, StaffFactory
from yiwang.seals.tests.factories import tiny_png

S = Ticket.Status

# The shortest path from a new ticket to each status, as (action, party) steps.
_TO_HANDLED = [
    ("register", "operator"),
    ("dispatch", "dispatcher"),
    ("sign", "department_staff"),
    ("handle", "department_staff"),
]
PATHS = {
    S.REPORTED: [],
    S.VERIFIED: [("verify", "checker")],
    S.REGISTERED: [("register", "operator")],
    S.DISPATCHED: _TO_HANDLED[:2],
    S.SIGNED: _TO_HANDLED[:3],
    S.HANDLED: _TO_HANDLED,
    S.CHECKED: [*_TO_HANDLED, ("check", "checker")],
    S.CLOSED: [*_TO_HANDLED, ("check", "checker"), ("close", "dispatcher")],
}
# Who plays each party in the world.
PLAYERS = {
    services.OPERATOR: "operator",
    services.CHECKER: "checker",
    services.DISPATCHER: "dispatcher",
    services.DEPARTMENT: "department_staff",
}


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    """A real PNG upload."""
    return SimpleUploadedFile(name, tiny_png(), content_type="image/png")


@dataclass
class World:
    centre: Department
    department: Department
    category: Category
    operator: User
    checker: User
    dispatcher: User
    supervisor: User
    department_staff: User
    department_lead: User
    other_department: User
    citizen: User
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def player(self, action: str) -> User:
        """Someone who may take `action` directly (follow-ups have their own service)."""
        parties = services.TRANSITIONS[action].parties - {services.FOLLOW_UP}
        return self[PLAYERS[sorted(parties)[0]]]

    def report(self, **changes: Any) -> Ticket:
        data = {
            "channel": "web",
            "kind": Ticket.Kind.HELP,
            "description": "东湖路 12 号门口的路灯连续三晚不亮",
            "category": self.category,
            "address": "示范市东城区东湖路 12 号",
            "latitude": "26.074",
            "longitude": "119.296",
            "reporter_name": "张三",
            "reporter_phone": "13800000001",
            **changes,
        }
        actor = data.pop("actor", self.citizen)
        return services.report(actor, **data)

    def do(self, ticket: Ticket, action: str, who: str | None = None, **kwargs: Any) -> Ticket:
        actor = self[who] if who else self.player(action)
        defaults = {"note": "理由", "result": "已更换灯泡,路灯恢复照明"}
        return services.act(actor, ticket, action, **{**defaults, **kwargs})

    def ticket_in(self, status: str, **changes: Any) -> Ticket:
        ticket = self.report(**changes)
        for action, who in PATHS[status]:
            ticket = self.do(ticket, action, who)
        assert ticket.status == status
        return ticket


def make_world(settings: Any) -> World:
    centre = DepartmentFactory(name="示范市12345热线中心")
    settings.YIWANG_HOTLINE_CENTRE = centre.credit_code
    lights = DepartmentFactory(name="示范市城市管理局")
    root = Category.objects.create(code="01", name="城市管理")
    street = Category.objects.create(code="0101", name="路灯不亮", parent=root, department=lights)
    lead = StaffFactory(department=lights, roles=["decision", "admin"])
    lights.lead = lead
    lights.save(update_fields=["lead"])
    supervisor = StaffFactory(department=centre, roles=["admin"])
    centre.lead = supervisor
    centre.save(update_fields=["lead"])
    return World(
        centre=centre,
        department=lights,
        category=street,
        operator=StaffFactory(department=centre, roles=["intake"]),
        checker=StaffFactory(department=centre, roles=["review"]),
        dispatcher=StaffFactory(department=centre, roles=["decision"]),
        supervisor=supervisor,
        department_staff=StaffFactory(department=lights, roles=["intake"]),
        department_lead=lead,
        other_department=StaffFactory(department=DepartmentFactory(), roles=["decision"]),
        citizen=CitizenFactory(),
    )
