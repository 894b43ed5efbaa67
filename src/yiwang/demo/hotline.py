"""Demo 12345 master data: the category tree and dispatch catalogue
(data/hotline_categories.yaml), the city's districts and streets (data/areas.geojson,
fictional outlines) and the knowledge base (data/hotline_knowledge.yaml)."""

import json

from django.db import transaction

from yiwang.demo.loader import DATA_DIR, SectionReport, departments_by_key, read_yaml
from yiwang.hotline import catalogue
from yiwang.hotline.models import Area, Category, KnowledgeArticle
from yiwang.identity.models import User

LIMIT_KEYS = ("sign_limit", "sign_unit", "handle_limit", "handle_unit")


def category_rows() -> list[dict]:
    return read_yaml("hotline_categories.yaml")["categories"]


def area_features() -> list[dict]:
    return json.loads((DATA_DIR / "areas.geojson").read_text(encoding="utf-8"))["features"]


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
            "keywords": row.get("keywords", ""),
            **{key: row[key] for key in LIMIT_KEYS if key in row},
        }
        if Category.objects.filter(code=row["code"]).exists():
            report.counts["unchanged"] += 1
        else:
            catalogue.save_category(admin, data)
            report.counts["created"] += 1
    return report


@transaction.atomic
def load_areas() -> SectionReport:
    report = SectionReport("12345 areas")
    admin = User.objects.get(username="admin")
    for feature in area_features():
        props = feature["properties"]
        if Area.objects.filter(code=props["code"]).exists():
            report.counts["unchanged"] += 1
            continue
        parent = Area.objects.get(code=props["parent"]) if props["parent"] else None
        catalogue.save_area(
            admin,
            code=props["code"],
            name=props["name"],
            geometry=feature["geometry"],
            parent=parent,
        )
        report.counts["created"] += 1
    return report


@transaction.atomic
def load_knowledge() -> SectionReport:
    report = SectionReport("12345 knowledge base")
    admin = User.objects.get(username="admin")
    departments = departments_by_key()
    for row in read_yaml("hotline_knowledge.yaml")["articles"]:
        if KnowledgeArticle.objects.filter(title=row["title"]).exists():
            report.counts["unchanged"] += 1
            continue
        catalogue.save_article(
            admin,
            {
                "title": row["title"],
                "question": row.get("question", ""),
                "answer": row["answer"],
                "keywords": row.get("keywords", ""),
                "category": Category.objects.filter(code=row.get("category", "")).first(),
                "department": departments.get(row.get("department", "")),
            },
        )
        report.counts["created"] += 1
    return report
