"""Django admin: read-mostly. Ratings are made by applicants, changed only through services
(call-back, close, void); the admin shows them and audits any save."""

from django.contrib import admin

from yiwang.audit.admin_mixins import AuditedModelAdmin
from yiwang.ratings.models import Rating, Rectification


class ReadMostlyAdmin(AuditedModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rating)
class RatingAdmin(ReadMostlyAdmin):
    audit_action = "ratings.rating"
    list_display = ["case", "sequence", "level", "channel", "department", "created_at", "is_void"]
    list_filter = ["level", "channel", "sequence", "is_void"]
    search_fields = ["case__number"]
    list_select_related = ["case", "department"]
    date_hierarchy = "created_at"


@admin.register(Rectification)
class RectificationAdmin(ReadMostlyAdmin):
    audit_action = "ratings.rectification"
    list_display = ["rating", "department", "status", "due_date", "owner", "closed_at"]
    list_filter = ["status"]
    search_fields = ["rating__case__number"]
    list_select_related = ["rating", "rating__case", "department", "owner"]
