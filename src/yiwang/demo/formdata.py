"""Plausible answers to the demo application forms (data/forms.yaml), per field.

Known field names get realistic Chinese values; any other field is filled from
its schema (enum, bounds, format), so a form added to forms.yaml still gets
answers. `form_values` checks the result against the schema and fails loudly,
naming the field, rather than letting a demo case fail at submission.
"""

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.cases import formschema
from yiwang.demo.people import id_number

Rng = random.Random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉志海燕晓东文博"
STREETS = [
    "兴业路",
    "东湖路",
    "政通路",
    "文昌街",
    "建设大道",
    "新华路",
    "滨江路",
    "学院路",
    "人民路",
]
COMMUNITIES = ["东湖花园", "兴业小区", "滨江名苑", "文昌里", "和平新村", "锦绣家园"]
DOGS = [
    ("豆豆", "柯基犬", "黄白色"),
    ("旺财", "中华田园犬", "黄色"),
    ("球球", "比熊犬", "白色"),
    ("可乐", "柴犬", "赤色"),
    ("Lucky", "金毛寻回犬", "金黄色"),
    ("小黑", "贵宾犬", "黑色"),
]
SCOPES = [
    "日用百货、服装鞋帽、五金交电零售",
    "餐饮服务;食品销售;外卖递送服务",
    "家用电器维修;日用产品修理",
    "软件开发;信息技术咨询服务;数据处理服务",
    "理发及美容服务;洗染服务",
]
EMPLOYERS = [
    "示范市云帆信息科技有限公司",
    "示范市第一人民医院",
    "示范市实验中学",
    "示范市东湖鲜食餐饮管理有限公司",
]
SITUATIONS = [
    "本人因病长期无法工作,配偶下岗,家庭主要依靠亲属接济,孩子正在读初中,生活十分困难。",
    "家中老人常年卧床需要照护,本人只能打零工,收入不稳定,医疗支出较大。",
    "本人重度残疾,无劳动能力,与年迈母亲共同生活,无其他收入来源。",
]
PROJECTS = ["东湖片区安置房二期工程", "示范市第三中学教学楼扩建工程", "滨江路综合管廊工程"]


def _name(rng: Rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _address(rng: Rng) -> str:
    return (
        f"示范市东城区{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.choice(COMMUNITIES)}"
        f"{rng.randint(1, 30)}栋{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
    )


def _days_ago(rng: Rng, low: int, high: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=rng.randint(low, high))).isoformat()


def _days_ahead(rng: Rng, low: int, high: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=rng.randint(low, high))).isoformat()


def _card(rng: Rng) -> str:
    return "621483" + "".join(rng.choice("0123456789") for _ in range(13))


def _person_id(rng: Rng) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 14000))
    return id_number(birth, rng.randint(100, 499), rng.random() < 0.5)


FIELDS: dict[str, Callable[[Rng], Any]] = {
    "address": _address,
    "residence_address": _address,
    "household_address": _address,
    "project_address": lambda r: (
        f"示范市东城区{r.choice(STREETS)}以东、{r.choice(STREETS)}以北地块"
    ),
    "mailing_address": _address,
    "business_scope": lambda r: r.choice(SCOPES),
    "legal_representative": _name,
    "legal_representative_id": _person_id,
    "spouse_name": _name,
    "spouse_id_number": _person_id,
    "shop_name": lambda r: (
        f"东城区{r.choice(['好邻居', '鲜丰', '百味', '益民', '惠家'])}"
        f"{r.choice(['便利店', '小吃店', '家电维修部', '理发店'])}"
    ),
    "newborn_name": lambda r: (
        r.choice(SURNAMES) + r.choice(["子涵", "雨桐", "浩然", "一诺", "欣怡", "梓萱"])
    ),
    "newborn_birth_date": lambda r: _days_ago(r, 3, 25),
    "birth_certificate_number": lambda r: "Q35" + "".join(r.choice("0123456789") for _ in range(7)),
    "expected_date": lambda r: _days_ahead(r, 20, 200),
    "residence_since": lambda r: _days_ago(r, 200, 1500),
    "employer": lambda r: r.choice(EMPLOYERS),
    "dog_name": lambda r: r.choice(DOGS)[0],
    "dog_breed": lambda r: r.choice(DOGS)[1],
    "dog_color": lambda r: r.choice(DOGS)[2],
    "dog_birth_date": lambda r: _days_ago(r, 200, 2500),
    "vaccination_date": lambda r: _days_ago(r, 10, 300),
    "bank_card_number": _card,
    "situation": lambda r: r.choice(SITUATIONS),
    "monthly_income": lambda r: r.choice([0, 600, 850, 1200]),
    "household_size": lambda r: r.randint(1, 5),
    "last_employer": lambda r: r.choice(EMPLOYERS),
    "separation_date": lambda r: _days_ago(r, 5, 50),
    "contribution_years": lambda r: r.randint(1, 15),
    "amount": lambda r: r.choice([12000, 30000, 50000, 86000]),
    "project_name": lambda r: r.choice(PROJECTS),
    "planning_permit_number": lambda r: (
        "建字第3599" + "".join(r.choice("0123456789") for _ in range(8)) + "号"
    ),
    "contract_amount": lambda r: r.choice([1280, 3650, 8800]),
    "building_area": lambda r: r.choice([5600, 12800, 32000]),
    "contractor_name": lambda r: "示范市宏建建筑工程有限公司",
    "start_date": lambda r: _days_ahead(r, 15, 60),
    "end_date": lambda r: _days_ahead(r, 70, 150),
    "road_name": lambda r: f"{r.choice(STREETS)}({r.choice(STREETS)}口至{r.choice(STREETS)}口)",
    "traffic_plan_summary": lambda r: "分两幅施工,保留双向各一条车道,设置围挡和夜间警示灯",
    "registered_capital": lambda r: r.choice([10, 50, 100, 500]),
    "floor_area": lambda r: r.choice([35, 60, 120, 260]),
    "employees": lambda r: r.randint(1, 8),
    "company_name": lambda r: f"示范市{r.choice(['青禾', '启明', '汇通', '东升'])}科技有限公司",
}


def _from_schema(name: str, prop: dict, rng: Rng) -> Any:
    """A value that satisfies the property's own constraints, for fields not in FIELDS."""
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return rng.choice(prop["enum"])
    kind = prop.get("type")
    if kind == "boolean":
        return rng.random() < 0.7
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
        high = min(prop.get("maximum", low + 20), low + 20)
        return rng.randint(int(low), int(high))
    if prop.get("format") == "date":
        return _days_ago(rng, 1, 300)
    text = f"{prop.get('title', name)}:详见附件材料"
    return text[: prop.get("maxLength", 200)].ljust(prop.get("minLength", 0), "。")


def form_values(schema: dict, user: Any, rng: Rng) -> dict[str, Any]:
    """Answers to every field, prefilled ones from the applicant as the portal would."""
    values = formschema.prefill(schema, user)
    for name, prop in schema.get("properties", {}).items():
        if name in values:
            continue
        source = prop.get("x-prefill")
        if source and getattr(user, source, None):  # e.g. a phone not verified by SMS yet
            values[name] = getattr(user, source)
        elif name in FIELDS and "enum" not in prop and "const" not in prop:
            values[name] = FIELDS[name](rng)
        else:
            values[name] = _from_schema(name, prop, rng)
    errors = formschema.validate_form(schema, values)
    if errors:
        raise ValidationError({f"form.{k}": v for k, v in errors.items()})
    return values
