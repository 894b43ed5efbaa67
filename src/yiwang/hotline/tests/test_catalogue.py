"""Platform administrators keep the category tree (派单目录), the knowledge base and areas."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.hotline import catalogue
from yiwang.hotline.models import Area, Category, KnowledgeArticle
from yiwang.identity.tests.factories import DepartmentFactory, PlatformAdminFactory, StaffFactory
from yiwang.search.selectors import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_admin():
    return PlatformAdminFactory()


def test_platform_admins_keep_the_category_tree(platform_admin):
    root = catalogue.save_category(platform_admin, {"code": "01", "name": "城市管理"})
    leaf = catalogue.save_category(
        platform_admin,
        {
            "code": "0101",
            "name": "路灯不亮",
            "parent": root,
            "department": DepartmentFactory(),
            "sign_limit": "0.5",
            "sign_unit": "days",
            "handle_limit": "4",
            "handle_unit": "hours",
            "keywords": "路灯  黑灯",
        },
    )
    assert leaf.parent == root and str(leaf.sign_limit) == "0.5" and leaf.sign_unit == "days"
    assert leaf.handle_unit == "hours" and leaf.keywords == "路灯 黑灯"
    assert AuditEvent.objects.filter(action="hotline.save_category").count() == 2
    with pytest.raises(ValidationError) as err:
        catalogue.save_category(platform_admin, {"parent": leaf}, instance=root)
    assert "parent" in err.value.message_dict


def test_categories_are_found_by_the_words_callers_use(platform_admin):
    root = catalogue.save_category(platform_admin, {"code": "01", "name": "城市管理"})
    catalogue.save_category(
        platform_admin,
        {"code": "0101", "name": "路灯不亮或损坏", "parent": root, "keywords": "黑灯 照明"},
    )
    hits = search(catalogue.CATEGORY_KIND, "黑灯", facets={"leaf": "1"}).hits
    assert [hit.payload["path"] for hit in hits] == ["城市管理 / 路灯不亮或损坏"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"code": "A1", "name": "x"}, "code"),
        ({"code": "01", "name": " "}, "name"),
        ({"code": "01", "name": "x", "sign_limit": "0"}, "sign_limit"),
        ({"code": "01", "name": "x", "sign_limit": "0.3"}, "sign_limit"),
        ({"code": "01", "name": "x", "handle_limit": "91"}, "handle_limit"),
        ({"code": "01", "name": "x", "handle_limit": "NaN"}, "handle_limit"),
        ({"code": "01", "name": "x", "handle_unit": "weeks"}, "handle_unit"),
        ({"code": "01", "name": "x", "keywords": "词" * 201}, "keywords"),
    ],
)
def test_bad_categories_are_refused(platform_admin, data, field):
    with pytest.raises(ValidationError) as err:
        catalogue.save_category(platform_admin, data)
    assert field in err.value.message_dict
    assert not Category.objects.exists()


def test_only_platform_admins_change_master_data():
    department_admin = StaffFactory(roles=["admin"])
    with pytest.raises(PermissionDenied):
        catalogue.save_category(department_admin, {"code": "01", "name": "x"})
    with pytest.raises(PermissionDenied):
        catalogue.save_article(department_admin, {"title": "x", "answer": "y"})
    with pytest.raises(PermissionDenied):
        catalogue.save_area(department_admin, code="359902", name="东城区", geometry={})
    assert not KnowledgeArticle.objects.exists() and not Area.objects.exists()


def test_knowledge_articles_are_searchable_until_switched_off(platform_admin):
    article = catalogue.save_article(
        platform_admin,
        {
            "title": "社会保障卡丢失如何补办",
            "answer": "先挂失,再到网点补办",
            "keywords": "补卡 挂失",
        },
    )
    assert [h.object_id for h in search(catalogue.ARTICLE_KIND, "补卡").hits] == [article.pk]
    catalogue.save_article(platform_admin, {"is_active": False}, instance=article)
    assert search(catalogue.ARTICLE_KIND, "补卡").hits == []
    with pytest.raises(ValidationError) as err:
        catalogue.save_article(platform_admin, {"title": "空口径", "answer": " "})
    assert "answer" in err.value.message_dict


def test_areas_need_a_region_code_and_a_polygon(platform_admin):
    with pytest.raises(ValidationError) as err:
        catalogue.save_area(
            platform_admin, code="35990", name="x", geometry={"type": "Point", "coordinates": []}
        )
    assert {"code", "geometry"} <= set(err.value.message_dict)
    area = catalogue.save_area(platform_admin, code="359902", name="东城区", geometry={})
    again = catalogue.save_area(platform_admin, code="359902", name="东城区(新)", geometry={})
    assert again.pk == area.pk and again.name == "东城区(新)"
