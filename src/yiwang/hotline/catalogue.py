"""Master data of the hotline, kept by platform administrators: the category tree with its
dispatch catalogue (派单目录) and time limits, the knowledge base (知识库) and the city's
areas. Each save is one transaction and one audit event; categories and articles are
indexed for search in the same transaction (kinds "hotline_category", "hotline_article"),
so an operator finds "路灯不亮" by the words a caller uses.
"""

import decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.audit.services import record, snapshot
from yiwang.hotline.models import Area, Category, KnowledgeArticle, LimitUnit
from yiwang.hotline.services import TicketError
from yiwang.identity.permissions import is_platform_admin
from yiwang.search.services import Document, index_document, remove_document

CATEGORY_KIND = "hotline_category"
ARTICLE_KIND = "hotline_article"
CATEGORY_FIELDS = (
    "code",
    "name",
    "parent",
    "department",
    "sign_limit",
    "sign_unit",
    "handle_limit",
    "handle_unit",
    "keywords",
    "description",
    "is_public",
    "is_active",
    "sort_order",
)
LIMIT_RANGES = {  # unit → (lowest, highest)
    LimitUnit.HOURS: (decimal.Decimal("0.5"), decimal.Decimal("720")),
    LimitUnit.DAYS: (decimal.Decimal("0.5"), decimal.Decimal("90")),
}


def _admin_only(actor: Any, what: str) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护%(what)s") % {"what": what})


def _limit(
    merged: dict[str, Any], field: str, label: str, errors: dict
) -> tuple[decimal.Decimal, str]:
    unit = merged.get(f"{field}_unit") or LimitUnit.DAYS
    if unit not in LimitUnit.values:
        errors[f"{field}_unit"] = [
            _("%(label)s单位应为工作小时(hours)或工作日(days)") % {"label": label}
        ]
        unit = LimitUnit.DAYS
    low, high = LIMIT_RANGES[unit]
    try:
        amount = decimal.Decimal(str(merged.get(f"{field}_limit")))
        if not amount.is_finite() or not low <= amount <= high or amount * 2 % 1:
            raise decimal.InvalidOperation
    except (decimal.InvalidOperation, ValueError):
        errors[f"{field}_limit"] = [
            _("%(label)s应为 %(low)s 至 %(high)s 个%(unit)s,可含半个(如 0.5)")
            % {"label": label, "low": low, "high": high, "unit": LimitUnit(unit).label}
        ]
        amount = low
    return amount, unit


def category_document(category: Category) -> Document:
    parent = category.parent.name if category.parent_id else ""
    return Document(
        category.pk,
        title=category.name,
        keywords=[w for w in category.keywords.split() if w] + ([parent] if parent else []),
        body=category.description,
        facets={
            "leaf": "1" if not category.children.exists() else "0",
            "active": "1" if category.is_active else "0",
            "public": "1" if category.is_public else "0",
        },
        payload={"code": category.code, "path": category.path_name},
    )


def category_documents():
    for category in Category.objects.select_related("parent"):
        yield category_document(category)


def _index_category(category: Category) -> None:
    document = category_document(category)
    index_document(
        CATEGORY_KIND,
        document.object_id,
        title=document.title,
        keywords=document.keywords,
        body=document.body,
        facets=document.facets,
        payload=document.payload,
    )


@transaction.atomic
def save_category(actor: Any, data: dict[str, Any], instance: Category | None = None) -> Category:
    """Platform administrators keep the tree; a leaf in use names its responsible department."""
    _admin_only(actor, _("工单分类和派单目录"))
    merged = {f: getattr(instance, f) for f in CATEGORY_FIELDS} if instance else {}
    merged.setdefault("sign_unit", LimitUnit.HOURS)
    merged.setdefault("sign_limit", decimal.Decimal("3.5"))
    merged.setdefault("handle_unit", LimitUnit.DAYS)
    merged.setdefault("handle_limit", decimal.Decimal("5"))
    merged.update({k: v for k, v in data.items() if k in CATEGORY_FIELDS})
    errors: dict[str, list[str]] = {}
    code = str(merged.get("code") or "").strip()
    if not code.isdigit() or not 2 <= len(code) <= 20:
        errors["code"] = [_("分类编码应为 2 至 20 位数字")]
    elif Category.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["code"] = [_("分类编码 %(code)s 已存在") % {"code": code}]
    name = str(merged.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("请填写分类名称(不超过 100 字)")]
    parent = merged.get("parent")
    if parent is not None and instance is not None:
        node = parent
        while node is not None:
            if node.pk == instance.pk:
                errors["parent"] = [_("上级分类不能是本分类或其下级")]
                break
            node = node.parent
    sign = _limit(merged, "sign", _("签收时限"), errors)
    handle = _limit(merged, "handle", _("办结时限"), errors)
    keywords = " ".join(str(merged.get("keywords") or "").split())
    if len(keywords) > 200:
        errors["keywords"] = [_("检索词不超过 200 字")]
    description = str(merged.get("description") or "").strip()
    if len(description) > 300:
        errors["description"] = [_("说明不超过 300 字")]
    if errors:
        raise TicketError(errors)
    before = snapshot(instance) if instance else None
    category = instance or Category()
    category.code, category.name, category.parent = code, name, parent
    category.department = merged.get("department")
    category.sign_limit, category.sign_unit = sign
    category.handle_limit, category.handle_unit = handle
    category.keywords, category.description = keywords, description
    category.is_public = bool(merged.get("is_public", True))
    category.is_active = bool(merged.get("is_active", True))
    category.sort_order = int(merged.get("sort_order") or 0)
    category.save()
    _index_category(category)
    if parent is not None:
        _index_category(parent)  # no longer a leaf
    record(actor, "hotline.save_category", category, before=before, after=snapshot(category))
    return category


# Knowledge base ------------------------------------------------------------------------------

ARTICLE_FIELDS = ("title", "question", "answer", "category", "department", "keywords", "is_active")


def article_document(article: KnowledgeArticle) -> Document:
    return Document(
        article.pk,
        title=article.title,
        keywords=[w for w in article.keywords.split() if w],
        body=f"{article.question}\n{article.answer}",
        facets={"active": "1" if article.is_active else "0"},
        payload={"title": article.title, "answer": article.answer[:300]},
    )


def article_documents():
    for article in KnowledgeArticle.objects.all():
        yield article_document(article)


@transaction.atomic
def save_article(
    actor: Any, data: dict[str, Any], instance: KnowledgeArticle | None = None
) -> KnowledgeArticle:
    """知识库口径 are answers the city stands behind, so only platform administrators edit them."""
    _admin_only(actor, _("知识库"))
    merged = {f: getattr(instance, f) for f in ARTICLE_FIELDS} if instance else {}
    merged.update({k: v for k, v in data.items() if k in ARTICLE_FIELDS})
    errors: dict[str, list[str]] = {}
    title = str(merged.get("title") or "").strip()
    if not title or len(title) > 120:
        errors["title"] = [_("请填写标题(不超过 120 字)")]
    answer = str(merged.get("answer") or "").strip()
    if not answer or len(answer) > 5000:
        errors["answer"] = [_("请填写答复口径(不超过 5000 字)")]
    question = str(merged.get("question") or "").strip()
    if len(question) > 2000:
        errors["question"] = [_("常见问法不超过 2000 字")]
    keywords = " ".join(str(merged.get("keywords") or "").split())
    if len(keywords) > 200:
        errors["keywords"] = [_("检索词不超过 200 字")]
    if errors:
        raise TicketError(errors)
    before = snapshot(instance) if instance else None
    article = instance or KnowledgeArticle()
    article.title, article.answer, article.question, article.keywords = (
        title,
        answer,
        question,
        keywords,
    )
    article.category = merged.get("category")
    article.department = merged.get("department")
    article.is_active = bool(merged.get("is_active", True))
    article.save()
    document = article_document(article)
    if article.is_active:
        index_document(
            ARTICLE_KIND,
            article.pk,
            title=document.title,
            keywords=document.keywords,
            body=document.body,
            facets=document.facets,
            payload=document.payload,
        )
    else:
        remove_document(ARTICLE_KIND, article.pk)
    record(actor, "hotline.save_article", article, before=before, after=snapshot(article))
    return article


# Areas -----------------------------------------------------------------------------------------


@transaction.atomic
def save_area(
    actor: Any, *, code: str, name: str, geometry: dict, parent: Area | None = None
) -> Area:
    """A district or street with its GeoJSON outline; matched on its region code."""
    _admin_only(actor, _("区划"))
    errors: dict[str, list[str]] = {}
    if not code.isdigit() or len(code) not in (6, 9, 12):
        errors["code"] = [_("区划代码应为 6、9 或 12 位数字")]
    if not name.strip():
        errors["name"] = [_("请填写区划名称")]
    if geometry and geometry.get("type") not in ("Polygon", "MultiPolygon"):
        errors["geometry"] = [_("边界应为 GeoJSON 的 Polygon 或 MultiPolygon")]
    if errors:
        raise TicketError(errors)
    area = Area.objects.filter(code=code).first()
    before = snapshot(area) if area else None
    area = area or Area(code=code)
    area.name, area.geometry, area.parent = name.strip(), geometry or {}, parent
    area.save()
    record(actor, "hotline.save_area", area, before=before, after={"code": code, "name": name})
    return area
