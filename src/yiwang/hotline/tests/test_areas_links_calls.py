"""Smaller rules: which street a point is in, links and notes between tickets, call records."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.hotline import areas, services
from yiwang.hotline.models import Call, Ticket

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
HOLE = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]


@pytest.mark.parametrize(
    "geometry, point, inside",
    [
        ({"type": "Polygon", "coordinates": [SQUARE]}, (5, 5), True),
        ({"type": "Polygon", "coordinates": [SQUARE]}, (11, 5), False),
        ({"type": "Polygon", "coordinates": [SQUARE, HOLE]}, (5, 5), False),  # in the hole
        ({"type": "Polygon", "coordinates": [SQUARE, HOLE]}, (2, 5), True),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [[SQUARE], [[[20, 0], [30, 0], [30, 5], [20, 0]]]],
            },
            (28, 2),
            True,
        ),
        ({"type": "Point", "coordinates": [5, 5]}, (5, 5), False),
        ({}, (5, 5), False),
    ],
)
def test_points_in_outlines(geometry, point, inside):
    assert areas.contains(geometry, *point) is inside


@pytest.mark.django_db
def test_operators_link_tickets_and_staff_who_see_a_ticket_add_notes(world):
    a, b = world.report(), world.report(category=None, description="同一路段还有一盏灯不亮")
    services.link(world.operator, a, b)
    assert b in a.related.all() and a in b.related.all()
    with pytest.raises(PermissionDenied):
        services.link(world.department_staff, a, b)
    with pytest.raises(ValidationError):
        services.link(world.operator, a, a)
    ticket = world.ticket_in(Ticket.Status.SIGNED)
    services.comment(world.department_staff, ticket, "已联系供电公司协助")
    for outsider in (world.other_department, world.citizen):
        with pytest.raises(PermissionDenied):
            services.comment(outsider, ticket, "x")
    with pytest.raises(ValidationError):
        services.comment(world.operator, ticket, "长" * 2001)
    assert ticket.events.filter(action="comment").count() == 1


@pytest.mark.django_db
def test_call_records_are_upserted_by_call_id_and_checked(world):
    start = timezone.now() - dt.timedelta(minutes=5)
    call = services.record_call(
        world.operator, call_id="CTI-1", started_at=start, caller_phone="13800000001"
    )
    assert call.answered_at is None and call.caller_phone == "13800000001"
    again = services.record_call(
        world.operator,
        call_id="CTI-1",
        started_at=start,
        answered_at=start + dt.timedelta(seconds=12),
        ended_at=start + dt.timedelta(minutes=3),
    )
    assert again.pk == call.pk and Call.objects.count() == 1 and again.answered_at is not None
    with pytest.raises(ValidationError) as err:
        services.record_call(
            world.operator,
            call_id="CTI-2",
            started_at=start,
            answered_at=start - dt.timedelta(seconds=1),
            caller_phone="1380000000a",
        )
    assert {"answered_at", "caller_phone"} <= set(err.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.record_call(world.department_staff, call_id="CTI-3", started_at=start)
    assert Call.objects.count() == 1
