"""Reporting: photos checked by their bytes, the street found from the point, repeat callers
recognized, the reporter told the number and query code, nothing written on bad input."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.audit.models import AuditEvent
from yiwang.hotline import routing, services
from yiwang.hotline.models import Area, Ticket, TicketFile
from yiwang.hotline.tests.factories import photo
from yiwang.identity.tests.factories import DepartmentFactory
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[119.2, 26.0], [119.4, 26.0], [119.4, 26.2], [119.2, 26.2], [119.2, 26.0]]],
}


def test_a_report_is_numbered_timed_and_told_to_the_reporter(world):
    ticket = world.report()
    assert len(ticket.number) == 14 and ticket.query_code.isdigit() and len(ticket.query_code) == 6
    assert ticket.status == Ticket.Status.REPORTED
    assert ticket.due_at == ticket.dispatch_due and ticket.warn_at < ticket.due_at
    sms = OutboxMessage.objects.get(channel="sms", topic="hotline.report")
    text = json.loads(sms.payload)["text"]
    assert ticket.number in text and ticket.query_code in text
    assert AuditEvent.objects.filter(action="hotline.report", object_id=str(ticket.pk)).exists()
    assert ticket.reporter == world.citizen and ticket.reporter_phone == "13800000001"


def test_photos_are_kept_with_their_hash_and_a_text_file_is_refused(world):
    ticket = world.report(photos=[photo()])
    stored = ticket.files.get()
    assert stored.kind == TicketFile.Kind.PHOTO and stored.content_type == "image/png"
    assert len(stored.sha256) == 64 and stored.filename == "现场.png"
    fake = SimpleUploadedFile("照片.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationError) as err:
        world.report(photos=[photo(), fake])
    assert "photos" in err.value.message_dict and "照片.jpg" in str(err.value)
    assert Ticket.objects.count() == 1 and TicketFile.objects.count() == 1


def test_too_many_photos_are_refused(world):
    with pytest.raises(ValidationError) as err:
        world.report(photos=[photo(f"{i}.png") for i in range(services.MAX_PHOTOS + 1)])
    assert "photos" in err.value.message_dict
    assert not Ticket.objects.exists()


def test_the_street_is_found_from_the_point(world):
    district = Area.objects.create(code="359902", name="东城区")
    street = Area.objects.create(
        code="359902001000", name="东湖街道", parent=district, geometry=SQUARE
    )
    assert world.report(latitude="26.1", longitude="119.3").area == street
    assert world.report(latitude="27.5", longitude="119.3").area is None
    assert world.report(latitude="", longitude="").area is None


def test_only_one_of_latitude_and_longitude_is_refused(world):
    with pytest.raises(ValidationError) as err:
        world.report(latitude="26.1", longitude="")
    assert "longitude" in err.value.message_dict
    assert not Ticket.objects.exists()


def test_a_second_call_about_the_same_thing_is_marked_as_a_repeat(world):
    first = world.report()
    again = world.report(description="路灯还是不亮,上次反映过了")
    other_matter = world.report(category=None, description="想咨询社保卡补办")
    assert again.repeat_of == first and first in again.related.all()
    assert other_matter.repeat_of is None


def test_anonymous_reports_keep_no_contact_and_send_nothing(world):
    ticket = world.report(actor=None, is_anonymous=True, reporter_name="李四")
    assert ticket.reporter is None and ticket.reporter_phone == "" and ticket.reporter_name == ""
    assert not OutboxMessage.objects.filter(topic="hotline.report").exists()


def test_a_phone_call_registered_by_an_operator_is_not_the_operators_ticket(world):
    ticket = world.report(actor=world.operator, channel="phone", reporter_phone="13900000009")
    assert ticket.reporter is None and ticket.created_by == world.operator
    assert ticket.reporter_phone == "13900000009"


# Smart routing at registration ----------------------------------------------------------------


@pytest.fixture
def confident(monkeypatch, world):
    """Routing that is sure the ticket belongs to 城管 (the model itself is tested elsewhere)."""
    department = world.department

    def suggest(text, k=3):
        return [routing.Suggestion(department.pk, department.name, 0.93)]

    monkeypatch.setattr(routing, "suggest", suggest)
    return department


def test_registration_remembers_the_suggestion_but_never_dispatches_alone_by_default(
    world, confident
):
    ticket = world.do(world.report(), "register")
    assert ticket.suggested_department == confident and ticket.suggestion_confidence == 0.93
    assert ticket.status == Ticket.Status.REGISTERED


@pytest.mark.parametrize(
    "threshold, dispatched", [("0.9", True), ("0.93", True), ("0.95", False), ("", False)]
)
def test_auto_dispatch_only_at_or_above_the_threshold(
    world, confident, settings, threshold, dispatched
):
    settings.YIWANG_HOTLINE_AUTO_DISPATCH = threshold
    ticket = world.do(world.report(), "register")
    expected = Ticket.Status.DISPATCHED if dispatched else Ticket.Status.REGISTERED
    assert ticket.status == expected
    if dispatched:
        event = ticket.events.get(action="dispatch")
        assert event.actor is None and "智能派单" in event.note
        assert ticket.lead_department == confident


def test_dispatch_to_the_centre_itself_is_refused(world):
    ticket = world.ticket_in(Ticket.Status.REGISTERED)
    with pytest.raises(ValidationError) as err:
        world.do(ticket, "dispatch", department=world.centre)
    assert "department" in err.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.REGISTERED and ticket.lead_department is None


def test_handling_with_photos_keeps_them_on_the_handle_event(world):
    ticket = world.ticket_in(Ticket.Status.SIGNED)
    ticket = world.do(ticket, "handle", result="已更换灯具", photos=[photo("修好了.png")])
    stored = ticket.files.get(kind=TicketFile.Kind.RESULT)
    assert stored.event.action == "handle"
    with pytest.raises(ValidationError):
        world.do(
            world.ticket_in(Ticket.Status.SIGNED),
            "handle",
            photos=[SimpleUploadedFile("x.png", b"%PDF-1.4 not a photo")],
        )


def test_supporting_departments_see_the_ticket_and_others_do_not(world):
    helper = DepartmentFactory()
    from yiwang.identity.tests.factories import StaffFactory

    helper_staff = StaffFactory(department=helper, roles=["intake"])
    ticket = world.ticket_in(Ticket.Status.REGISTERED)
    ticket = world.do(ticket, "dispatch", supporting=[helper])
    assert services.can_view(helper_staff, ticket)
    assert not services.can_view(world.other_department, ticket)
    assert services.can_view(world.citizen, ticket)
    assert services.can_view(world.supervisor, ticket)  # the centre's director
    assert not services.can_view(None, ticket)
