"""Demo 12345 category tree and dispatch catalogue (data/hotline_categories.yaml)."""

from django.db import transaction

from yiwang.demo.loader import SectionReport, departments_by_key, read_yaml
from yiwang.hotline import services
from yiwang.hotline.models import Category
from yiwang.identity.models import User


def category_rows() -> list[dict]:
    return read_yaml("hotline_categories.yaml")["categories"]


@transaction.atomic
def load_categories() -> SectionReport:
    """Through the service, parents first (the file is ordered so); matched on code."""
    report = SectionReport("12345 categories")
    admin = User.objects.get(username="admin")
    departments = departments_by_key()
    for row in category_rows():
        data = {
            "code": row["code"],
            "name": row["name"],
            "parent": Category.objects.get(code=row["parent"]) if row.get("parent") else None,
            "department": departments[row["department"]] if row.get("department") else None,
            "sign_hours": row.get("sign_hours", 3.5),
            "handle_days": row.get("handle_days", 5),
        }
        existing = Category.objects.filter(code=row["code"]).first()
        if existing is None:
            services.save_category(admin, data)
            report.counts["created"] += 1
        else:
            report.counts["unchanged"] += 1
    return report
