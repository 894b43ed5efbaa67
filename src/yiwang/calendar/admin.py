"""Administrators correct single dates here; each save is audited (calendar.override.*)."""

from django.contrib import admin

from yiwang.audit.admin_mixins import AuditedModelAdmin
from yiwang.calendar.models import CalendarOverride


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(AuditedModelAdmin):
    audit_action = "calendar.override"
    list_display = ("date", "__str__", "is_working_day", "source", "note", "updated_at")
    list_filter = ("is_working_day",)
    date_hierarchy = "date"
    search_fields = ("source", "note")
    fields = ("date", "is_working_day", "source", "note")
