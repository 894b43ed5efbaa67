"""Demo licences: the licence catalogue, a seal per department, issuance rules, 免证办
materials, and licences held by the demo accounts (one revoked, one expired).

Everything goes through the services, so the licences carry real seal signatures.
Defining-authority codes other than SAMR's (the GB/T 36904 example in STANDARDS.md)
are made-up codes with valid check characters, not the ministries' real ones.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.catalog.models import ServiceListing
from yiwang.crypto.fields import blind_index
from yiwang.demo.loader import SectionReport
from yiwang.identity.models import Department, User
from yiwang.identity.validators import credit_check_char
from yiwang.licenses import services
from yiwang.licenses.models import IssuanceRule, License, LicenseType
from yiwang.seals import services as seal_services
from yiwang.seals.models import Seal


def national(org: str) -> str:
    body = f"11100000{org}"
    return body + credit_check_char(body)


SAMR = ("国家市场监督管理总局", "11100000000013338W")
MCA = ("中华人民共和国民政部", national("MB0000012"))
NHC = ("国家卫生健康委员会", national("MB0000023"))
MPS = ("中华人民共和国公安部", national("MB0000034"))
MNR = ("中华人民共和国自然资源部", national("MB0000045"))
MOHRSS = ("中华人民共和国人力资源和社会保障部", national("MB0000056"))


def _f(name: str, label: str, kind: str = "string", required: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "type": kind, "required": required}


TYPES: list[dict[str, Any]] = [
    {
        "authority": SAMR,
        "suffix": "001",
        "name": "营业执照",
        "holder_type": "001",
        "validity_years": None,
        "fields": [
            _f("company_type", "类型", required=True),
            _f("legal_representative", "法定代表人", required=True),
            _f("registered_capital", "注册资本"),
            _f("established_on", "成立日期", "date"),
            _f("address", "住所", required=True),
            _f("business_scope", "经营范围"),
        ],
    },
    {
        "authority": SAMR,
        "suffix": "002",
        "name": "个体工商户营业执照",
        "holder_type": "111",
        "validity_years": None,
        "fields": [
            _f("shop_name", "名称"),
            _f("address", "经营场所", required=True),
            _f("business_category", "经营项目"),
            _f("business_scope", "经营范围"),
        ],
    },
    {
        "authority": SAMR,
        "suffix": "011",
        "name": "食品经营许可证",
        "holder_type": "001",
        "validity_years": 5,
        "fields": [
            _f("legal_representative", "法定代表人(负责人)", required=True),
            _f("address", "经营场所", required=True),
            _f("business_form", "主体业态", required=True),
            _f("food_categories", "经营项目", required=True),
        ],
    },
    {
        "authority": MCA,
        "suffix": "001",
        "name": "结婚证",
        "holder_type": "111",
        "validity_years": None,
        "fields": [
            _f("spouse_name", "配偶姓名", required=True),
            _f("registered_on", "登记日期", "date", required=True),
            _f("certificate_no", "结婚证字号"),
        ],
    },
    {
        "authority": NHC,
        "suffix": "001",
        "name": "出生医学证明",
        "holder_type": "111",
        "validity_years": None,
        "fields": [
            _f("newborn_name", "新生儿姓名", required=True),
            _f("newborn_gender", "性别", required=True),
            _f("birth_date", "出生日期", "date", required=True),
            _f("birth_place", "出生地点"),
            _f("father_name", "父亲姓名"),
        ],
    },
    {
        "authority": MPS,
        "suffix": "001",
        "name": "居住证",
        "holder_type": "111",
        "validity_years": 1,
        "fields": [
            _f("residence_address", "居住地址", required=True),
            _f("residence_since", "居住登记日期", "date"),
        ],
    },
    {
        "authority": MPS,
        "suffix": "002",
        "name": "机动车驾驶证",
        "holder_type": "111",
        "validity_years": 6,
        "fields": [
            _f("vehicle_class", "准驾车型", required=True),
            _f("first_issued_on", "初次领证日期", "date", required=True),
        ],
    },
    {
        "authority": MPS,
        "suffix": "003",
        "name": "养犬登记证",
        "holder_type": "111",
        "validity_years": 1,
        "fields": [
            _f("address", "养犬地址", required=True),
            _f("dog_name", "犬名"),
            _f("dog_breed", "犬种"),
            _f("dog_color", "毛色"),
        ],
    },
    {
        "authority": MNR,
        "suffix": "001",
        "name": "不动产权证书",
        "holder_type": "111",
        "validity_years": None,
        "fields": [
            _f("unit_number", "不动产单元号", required=True),
            _f("location", "坐落", required=True),
            _f("right_type", "权利类型"),
            _f("use", "用途"),
            _f("area", "面积(平方米)", "number"),
        ],
    },
    {
        "authority": MOHRSS,
        "suffix": "001",
        "name": "社会保障卡",
        "holder_type": "111",
        "validity_years": 10,
        "fields": [
            _f("card_bank", "服务银行"),
            _f("card_region", "发卡地"),
        ],
    },
]

# Listing (by item name) → licence its granted cases produce, and the form fields it takes.
RULES = {
    "个体工商户设立登记": (
        "个体工商户营业执照",
        {
            "shop_name": "shop_name",
            "address": "address",
            "business_category": "business_category",
            "business_scope": "business_scope",
        },
    ),
    "食品经营许可": (
        "食品经营许可证",
        {
            "legal_representative": "legal_representative",
            "address": "address",
            "business_form": "business_form",
            "food_categories": "food_categories",
        },
    ),
    "居住证办理": (
        "居住证",
        {"residence_address": "residence_address", "residence_since": "residence_since"},
    ),
    "养犬登记": (
        "养犬登记证",
        {"address": "address", "dog_name": "dog_name", "dog_breed": "dog_breed"},
    ),
    "社会保障卡申领": ("社会保障卡", {}),
}

# 免证办: materials naming a licence type are marked in data/catalog.json (license_type_code).

ED25519_DEPARTMENTS = {"dc_ga"}  # one department signs with the international suite


def _type_code(row: dict[str, Any]) -> str:
    return row["authority"][1] + row["suffix"]


def _types(admin: User, report: SectionReport) -> dict[str, LicenseType]:
    found = {}
    for n, row in enumerate(TYPES):
        data = {
            "code": _type_code(row),
            "name": row["name"],
            "defining_authority": row["authority"][0],
            "defining_authority_code": row["authority"][1],
            "holder_type": row["holder_type"],
            "fields": row["fields"],
            "validity_years": row["validity_years"],
            "is_active": True,
            "sort_order": n,
        }
        existing = LicenseType.objects.filter(code=data["code"]).first()
        if existing is None:
            found[row["name"]] = services.save_license_type(admin, data)
            report.counts["created"] += 1
        else:
            found[row["name"]] = existing
    return found


def _seals(admin: User, departments: dict[str, Department], report: SectionReport) -> None:
    today = timezone.localdate()
    for key, department in departments.items():
        if Seal.objects.filter(department=department, revoked_at__isnull=True).exists():
            continue
        seal_services.create_seal(
            admin,
            department,
            name=f"{department.name}",
            valid_from=today - dt.timedelta(days=800),
            valid_until=today.replace(year=today.year + 5),
            suite="Ed25519" if key in ED25519_DEPARTMENTS else "SM2-SM3",
        )
        report.counts["created"] += 1


def _listing(item_name: str) -> ServiceListing | None:
    return (
        ServiceListing.objects.filter(item__name=item_name, process_setup__isnull=False)
        .select_related("department")
        .order_by("id")
        .first()
    )


def _rules(admin: User, types: dict[str, LicenseType], report: SectionReport) -> None:
    for item_name, (type_name, field_map) in RULES.items():
        listing = _listing(item_name)
        if listing is None or IssuanceRule.objects.filter(listing=listing).exists():
            continue
        services.save_issuance_rule(admin, listing, types[type_name], field_map)
        types[type_name].issuing_departments.add(listing.department)
        report.counts["created"] += 1


def _user(phone: str) -> User:
    return User.objects.get(phone_index=blind_index(phone, "phone"))


def _held(
    admin: User,
    types: dict[str, LicenseType],
    department: Department,
    holder: tuple[str, str],
    type_name: str,
    fields: dict[str, str],
    issued_on: dt.date,
    **kwargs: Any,
) -> License:
    kind = types[type_name]
    kind.issuing_departments.add(department)
    return services.issue(
        admin,
        kind,
        issuer=department,
        holder_name=holder[0],
        holder_code=holder[1],
        fields=fields,
        issued_on=issued_on,
        **kwargs,
    )


def _holdings(admin: User, types: dict[str, LicenseType], d: dict[str, Department]) -> int:
    today = timezone.localdate()
    zhang, li = _user("13800000001"), _user("13800000002")
    wang_agent, granny = _user("13800000003"), _user("13800000004")
    zhang_h = (zhang.real_name, zhang.id_number)
    li_h = (li.real_name, li.id_number)
    company = (wang_agent.company_name, wang_agent.credit_code)
    granny_h = (granny.real_name, granny.id_number)
    held = [
        _held(
            admin,
            types,
            d["dc_mz"],
            zhang_h,
            "结婚证",
            {
                "spouse_name": "李四",
                "registered_on": "2014-05-20",
                "certificate_no": "J359902-2014-001520",
            },
            dt.date(2014, 5, 20),
        ),
        _held(
            admin,
            types,
            d["dc_ga"],
            zhang_h,
            "机动车驾驶证",
            {
                "vehicle_class": "C1",
                "first_issued_on": "2008-07-01",
            },
            dt.date(2022, 7, 1),
        ),
        _held(
            admin,
            types,
            d["zrzy"],
            zhang_h,
            "不动产权证书",
            {
                "unit_number": "359902 001001 GB00012 F00010203",
                "location": "示范市东城区东湖路 12 号 3 栋 203 室",
                "right_type": "国有建设用地使用权/房屋所有权",
                "use": "城镇住宅用地/住宅",
                "area": "89.6",
            },
            dt.date(2016, 9, 12),
        ),
        _held(
            admin,
            types,
            d["dc_wj"],
            li_h,
            "出生医学证明",
            {
                "newborn_name": "张小宝",
                "newborn_gender": "男",
                "birth_date": "2024-03-18",
                "birth_place": "示范市妇幼保健院",
                "father_name": "张三",
            },
            dt.date(2024, 3, 20),
        ),
        _held(
            admin,
            types,
            d["dc_ga"],
            li_h,
            "居住证",
            {
                "residence_address": "示范市西城区南湖路 8 号",
                "residence_since": "2025-02-01",
            },
            today - dt.timedelta(days=120),
        ),
        _held(
            admin,
            types,
            d["scjg"],
            company,
            "营业执照",
            {
                "company_type": "有限责任公司(自然人投资或控股)",
                "legal_representative": "王五",
                "registered_capital": "50 万元人民币",
                "established_on": "2019-04-08",
                "address": "示范市东城区东湖路 66 号",
                "business_scope": "餐饮服务;食品销售",
            },
            dt.date(2019, 4, 8),
            number="91359902MA2Y8K3L01",
        ),
        _held(
            admin,
            types,
            d["rs"],
            granny_h,
            "社会保障卡",
            {
                "card_bank": "示范市农村商业银行",
                "card_region": "示范市",
            },
            dt.date(2020, 6, 1),
        ),
    ]
    revoked = _held(
        admin,
        types,
        d["dc_ga"],
        li_h,
        "机动车驾驶证",
        {
            "vehicle_class": "C1",
            "first_issued_on": "2012-03-01",
        },
        dt.date(2018, 3, 1),
    )
    services.change_status(admin, revoked, "revoke", "饮酒后驾驶机动车,依法吊销机动车驾驶证")
    _held(
        admin,
        types,
        d["scjg"],
        company,
        "食品经营许可证",
        {
            "legal_representative": "王五",
            "address": "示范市东城区东湖路 66 号",
            "business_form": "餐饮服务经营者",
            "food_categories": "热食类食品制售",
        },
        dt.date(2021, 10, 1),
        valid_until=today - dt.timedelta(days=50),
    )
    services.expire_licenses()
    return len(held) + 2


@transaction.atomic
def load_licenses() -> SectionReport:
    """Idempotent: types, seals and rules are matched; holdings are made on the first load."""
    from yiwang.demo.loader import departments_by_key

    report = SectionReport("licences")
    admin = User.objects.get(username="admin")
    departments = departments_by_key()
    types = _types(admin, report)
    _seals(admin, departments, report)
    _rules(admin, types, report)
    if not License.objects.filter(case__isnull=True).exists():
        report.counts["created"] += _holdings(admin, types, departments)
    return report
