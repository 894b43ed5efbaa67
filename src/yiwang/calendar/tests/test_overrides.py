"""Override file format, database overrides (DB wins), reload on change, admin editing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.calendar.checks import check_override_file
from yiwang.calendar.models import CalendarOverride
from yiwang.calendar.overrides import (
    DEFAULT_FILE,
    OverrideFileError,
    current_overrides,
    load_override_file,
    parse_overrides,
)
from yiwang.calendar.workdays import CalendarUnknown, add_working_days
from yiwang.identity.tests.factories import PlatformAdminFactory

D = dt.date

FILE_2027 = """\
# 2027 (example)
years: [2027]
holidays:
  - 2027-01-01..2027-01-03
  - 2027-02-06..2027-02-13
workdays:
  - 2027-02-14
"""


@pytest.fixture
def calendar_file(settings, tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text(FILE_2027, encoding="utf-8")
    settings.YIWANG_CALENDAR_FILE = str(path)
    return path


def test_the_shipped_file_is_valid_and_empty():
    overrides = load_override_file(DEFAULT_FILE)
    assert overrides == {} and overrides.years == frozenset()
    assert "years: [2027]" in DEFAULT_FILE.read_text(encoding="utf-8")  # the commented example


def test_the_file_format():
    overrides = parse_overrides(FILE_2027)
    assert overrides.years == {2027}
    assert overrides[D(2027, 1, 2)] is False and overrides[D(2027, 2, 13)] is False
    assert overrides[D(2027, 2, 14)] is True
    assert len(overrides) == 3 + 8 + 1


@pytest.mark.parametrize("text", ["", "# only comments\n", "years:\nholidays:\nworkdays:\n"])
def test_empty_files_are_valid(text):
    assert parse_overrides(text) == {}


BAD_FILES = [
    # text, expected fragments (line and field named)
    ("years: [2027]\nholiday:\n  - 2027-01-01\n", ["第 2 行 holiday", "未知字段"]),
    (
        "years: [2027]\nholidays:\n  - 2027-01-01\n  - 2027-02-30\n",
        ["第 4 行 holidays", "2027-02-30"],
    ),
    ("holidays:\n  - 20270101\n", ["第 2 行 holidays", "不是有效日期"]),
    ("years: [2027, 2028]\nholidays:\n  - 2027-01-01\n", ["第 1 行 years", "2028", "holidays"]),
    ("years: [2027]\nworkdays:\n  - 2027-02-14\n", ["第 1 行 years", "2027"]),
    ("holidays:\n  - 2027-01-01\n", ["第 2 行 holidays", "请在 years 中声明 2027"]),
    ("years: [next]\n", ["第 1 行 years", "不是年份"]),
    ("years: 2027\n", ["第 1 行 years", "应为列表"]),
    (
        "years: [2027]\nholidays:\n  - 2027-01-01\nworkdays:\n  - 2027-01-01\n",
        ["第 5 行 workdays", "同时出现"],
    ),
    ("years: [2027]\nholidays:\n  - 2027-01-07..2027-01-01\n", ["第 3 行 holidays", "区间"]),
    ("years: [2027]\nholidays:\n  - [2027-01-01]\n", ["第 3 行 holidays", "日期"]),
    ("- 2027-01-01\n", ["第 1 行 顶层"]),
    ("years: [2027\nholidays: []\n", ["不是有效的 YAML"]),
]


@pytest.mark.parametrize("text, fragments", BAD_FILES)
def test_bad_files_are_refused_naming_line_and_field(text, fragments):
    with pytest.raises(OverrideFileError) as exc:
        parse_overrides(text, "calendar.yaml")
    message = str(exc.value)
    assert "calendar.yaml" in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_missing_file_is_reported(settings, tmp_path):
    settings.YIWANG_CALENDAR_FILE = str(tmp_path / "missing.yaml")
    [error] = check_override_file(None)
    assert error.id == "calendar.E001" and "missing.yaml" in error.msg


def test_the_system_check_reports_a_broken_file(settings, tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("years: [2027]\n", encoding="utf-8")
    settings.YIWANG_CALENDAR_FILE = str(path)
    [error] = check_override_file(None)
    assert "第 1 行 years" in error.msg
    path.write_text(FILE_2027, encoding="utf-8")
    assert check_override_file(None) == []


@pytest.mark.django_db
def test_unknown_year_is_refused_then_accepted_with_a_covering_file(settings, calendar_file):
    settings.YIWANG_CALENDAR_FILE = str(DEFAULT_FILE)
    with pytest.raises(CalendarUnknown):
        add_working_days(D(2026, 12, 31), 1, current_overrides())
    settings.YIWANG_CALENDAR_FILE = str(calendar_file)
    assert add_working_days(D(2026, 12, 31), 1, current_overrides()) == D(2027, 1, 4)
    assert add_working_days(D(2027, 2, 5), 1, current_overrides()) == D(2027, 2, 14)


@pytest.mark.django_db
def test_the_database_wins_over_the_file(calendar_file):
    row = CalendarOverride.objects.create(
        date=D(2027, 1, 1), is_working_day=True, source="测试通知"
    )
    assert current_overrides()[D(2027, 1, 1)] is True
    assert add_working_days(D(2026, 12, 31), 1, current_overrides()) == D(2027, 1, 1)
    row.is_working_day = False
    row.save()
    assert add_working_days(D(2026, 12, 31), 1, current_overrides()) == D(2027, 1, 4)
    row.delete()
    assert current_overrides()[D(2027, 1, 1)] is False  # the file again


@pytest.mark.django_db
def test_an_edited_file_is_reread(calendar_file):
    assert current_overrides()[D(2027, 2, 14)] is True
    calendar_file.write_text(FILE_2027.replace("  - 2027-02-14\n", ""), encoding="utf-8")
    assert D(2027, 2, 14) not in current_overrides()


@pytest.mark.django_db
def test_a_broken_edit_keeps_the_last_good_file(calendar_file, caplog):
    assert current_overrides()[D(2027, 2, 14)] is True
    calendar_file.write_text("years: [2027]\nholidays: [not-a-date]\n", encoding="utf-8")
    assert current_overrides()[D(2027, 2, 14)] is True
    assert "invalid" in caplog.text


@pytest.mark.django_db
def test_callers_cannot_disturb_the_cache(calendar_file):
    current_overrides()[D(2027, 3, 1)] = False
    assert D(2027, 3, 1) not in current_overrides()


@pytest.mark.django_db
def test_a_database_override_needs_its_year_covered(settings, calendar_file):
    with pytest.raises(ValidationError) as exc:
        CalendarOverride(date=D(2028, 1, 3), is_working_day=False, source="x").full_clean()
    assert "date" in exc.value.message_dict and "2028" in exc.value.message_dict["date"][0]
    CalendarOverride(date=D(2027, 3, 1), is_working_day=False, source="x").full_clean()
    CalendarOverride(date=D(2025, 6, 16), is_working_day=False, source="x").full_clean()


@pytest.fixture
def superuser_client(client, db):
    client.force_login(PlatformAdminFactory(is_superuser=True))
    return client


def test_admin_edit_is_audited(superuser_client, calendar_file):
    url = reverse("admin:calendar_calendaroverride_add")
    data = {"date": "2025-06-16", "is_working_day": "", "source": "本市通知", "note": "台风停工"}
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    assert current_overrides()[D(2025, 6, 16)] is False
    event = AuditEvent.objects.get(action="calendar.override.create")
    assert event.after["date"] == "2025-06-16"
    changelist = superuser_client.get(reverse("admin:calendar_calendaroverride_changelist"))
    assert changelist.status_code == 200 and "本市通知" in changelist.content.decode()


def test_admin_refuses_an_uncovered_year_naming_the_field(superuser_client, calendar_file):
    url = reverse("admin:calendar_calendaroverride_add")
    data = {"date": "2028-01-03", "is_working_day": "", "source": "x", "note": ""}
    response = superuser_client.post(url, data)
    assert response.status_code == 200
    assert "2028 年不在内置日历" in response.content.decode()
    assert not CalendarOverride.objects.exists() and not AuditEvent.objects.exists()
