import pytest

from yiwang.search.tests.factories import IndexedDocumentFactory

FOOD, SOLE_TRADER, LICENCE_CHANGE, BIRTH_CERT, BIRTH_REG, HYGIENE, FUND = range(1, 8)


@pytest.fixture
def catalog(db):
    """A small service catalog: ids are the constants above."""
    docs = [
        dict(
            object_id=FOOD,
            title="食品经营许可",
            keywords=["开饭店", "开餐馆", "卖熟食"],
            body="申请人应当具有与经营的食品品种、数量相适应的食品原料处理和加工场所。"
            "提交营业执照复印件、食品安全管理制度。",
            facets={"department": "12", "item_type": "01", "theme": ["open-restaurant"]},
        ),
        dict(
            object_id=SOLE_TRADER,
            title="个体工商户营业执照设立登记",
            keywords=["办证", "开店"],
            body="个体工商户开饭店、开商店前应当先办理营业执照。",
            facets={"department": "13", "item_type": "01", "theme": ["open-restaurant"]},
        ),
        dict(
            object_id=LICENCE_CHANGE,
            title="营业执照变更登记",
            keywords=[],
            body="名称、住所、经营范围发生变化的,申请变更登记。",
            facets={"department": "13", "item_type": "01"},
        ),
        dict(
            object_id=BIRTH_CERT,
            title="出生医学证明",
            keywords=["生孩子", "出生证"],
            body="新生儿出生后由助产机构签发,是办理户口登记的依据。",
            facets={"department": "20", "item_type": "20", "theme": ["birth"]},
        ),
        dict(
            object_id=BIRTH_REG,
            title="生育登记",
            keywords=["生孩子", "准生证"],
            body="夫妻生育子女实行登记服务,可在网上申请。",
            facets={"department": "21", "item_type": "20", "theme": ["birth", "family"]},
        ),
        dict(
            object_id=HYGIENE,
            title="公共场所卫生许可",
            keywords=[],
            body="开饭店、宾馆、美容店等公共场所需要卫生许可;提交营业执照复印件。",
            facets={"department": "14", "item_type": "01"},
        ),
        dict(
            object_id=FUND,
            title="住房公积金提取",
            keywords=["取公积金"],
            body="购房、租房、退休可以提取住房公积金。",
            facets={"department": "30", "item_type": "20"},
        ),
    ]
    for doc in docs:
        IndexedDocumentFactory(**doc)
    # Same ids in another kind must never leak into listing results.
    IndexedDocumentFactory(kind="faq", object_id=FOOD, title="营业执照丢了怎么办", body="开饭店")
    return docs
