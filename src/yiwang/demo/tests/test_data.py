"""The demo data files obey the national code rules and the catalog's own rules.

Pure checks of the files, no database: a wrong check digit or a committed limit
above the statutory one fails here, with the offending row named.
"""

from collections import Counter

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from yiwang.demo.loader import DEMO_PASSWORD, accounts, department_rows, read_catalog
from yiwang.identity.models import User
from yiwang.identity.validators import (
    validate_credit_code,
    validate_id_number,
    validate_phone,
)

DEPARTMENTS = department_rows()
CATALOG = read_catalog()
ACCOUNTS = accounts()
ITEMS = CATALOG["items"]
LISTINGS = [(item, listing) for item in ITEMS for listing in item["listings"]]
DEPT_CODES = {d["credit_code"] for d in DEPARTMENTS}


def _person_rows():
    return ACCOUNTS["citizens"] + ACCOUNTS["company_agents"]


@pytest.mark.parametrize("row", DEPARTMENTS, ids=lambda d: d["key"])
def test_department_credit_code_passes_gb32100(row):
    assert validate_credit_code(row["credit_code"]) == row["credit_code"]


@pytest.mark.parametrize("row", DEPARTMENTS, ids=lambda d: d["key"])
def test_department_is_a_government_body_with_contacts(row):
    # 1 = 机构编制 registration; 1 机关, 2 事业单位, 3 群团
    assert row["credit_code"][:2] in {"11", "12", "13"}
    assert row["credit_code"][2:8] == row["region_code"][:6]
    assert row["level"] in {3, 4, 5} and row["nature"] in {1, 2, 3}
    for key in ("address", "phone", "supervision_phone", "office_hours"):
        assert row[key], f"{row['key']}: {key} is empty"


def test_department_tree_city_district_street():
    by_key = {d["key"]: d for d in DEPARTMENTS}
    assert len(DEPARTMENTS) >= 12
    assert len(by_key) == len(DEPARTMENTS) and len(DEPT_CODES) == len(DEPARTMENTS)
    roots = [d for d in DEPARTMENTS if d["parent"] is None]
    assert [r["name"] for r in roots] == ["示范市人民政府"]
    seen = set()
    for d in DEPARTMENTS:  # parents come first, so the loader can create in file order
        if d["parent"]:
            assert d["parent"] in seen, d["key"]
            assert by_key[d["parent"]]["level"] <= d["level"], d["key"]
        seen.add(d["key"])
    assert {d["level"] for d in DEPARTMENTS} == {3, 4, 5}


@pytest.mark.parametrize("row", _person_rows(), ids=lambda r: r["real_name"])
def test_person_numbers_pass_gb11643_and_phone_rules(row):
    assert validate_id_number(row["id_number"]) == row["id_number"]
    assert validate_phone(row["phone"]) == row["phone"]


def test_company_credit_code_passes_gb32100():
    for row in ACCOUNTS["company_agents"]:
        assert validate_credit_code(row["credit_code"]).startswith("91")


def test_accounts_name_existing_departments_and_real_roles():
    keys = {d["key"] for d in DEPARTMENTS}
    for row in ACCOUNTS["staff"] + ACCOUNTS["platform_admins"]:
        assert row["department"] in keys
        assert set(row.get("roles", [])) <= {"intake", "review", "decision", "admin"}
    logins = [r["phone"] for r in _person_rows()] + [
        r["username"] for r in ACCOUNTS["staff"] + ACCOUNTS["platform_admins"]
    ]
    assert len(set(logins)) == len(logins)


def test_demo_password_passes_django_validators():
    for row in ACCOUNTS["staff"] + ACCOUNTS["platform_admins"]:
        validate_password(DEMO_PASSWORD, User(username=row["username"], real_name=row["real_name"]))


def test_demo_password_check_is_able_to_fail():
    with pytest.raises(ValidationError):
        validate_password("12345678", User(username="admin"))


def test_catalog_size_and_variety():
    assert CATALOG["format"] == "yiwang-catalog/1"
    assert len(ITEMS) >= 40
    assert {"01", "05", "07", "20"} <= {i["item_type"] for i in ITEMS}
    assert {"02", "06", "10"} <= {p["power_type"] for p in CATALOG["power_items"]}
    statuses = Counter(listing["status"] for _, listing in LISTINGS)
    assert statuses["2"] >= 2 and statuses["3"] == 1
    assert sum(len(i["listings"]) >= 2 for i in ITEMS) >= 5
    assert any(listing["case_kind"] == "1" for _, listing in LISTINGS)
    assert any(listing["fee"]["charged"] for _, listing in LISTINGS)


def test_themes_cover_person_and_company_life_events():
    themes = {t["code"]: t for t in CATALOG["themes"]}
    names = {t["name"] for t in themes.values()}
    for name in ("生育收养", "户籍办理", "婚姻登记", "退休", "开办企业", "开办餐饮店", "注销"):
        assert name in names
    assert any(t["is_life_event"] and t["audience"] == "person" for t in themes.values())
    assert any(t["is_life_event"] and t["audience"] == "company" for t in themes.values())
    for item in ITEMS:
        assert set(item["themes"]) <= set(themes), item["name"]


def test_codes_unique_and_well_formed():
    basic = [i["basic_code"] for i in ITEMS]
    assert len(set(basic)) == len(basic)
    assert all(len(c) == 12 and c.isdigit() for c in basic)
    impl = [listing["implementation_code"] for _, listing in LISTINGS]
    assert len(set(impl)) == len(impl)


@pytest.mark.parametrize(
    "item,listing", LISTINGS, ids=[f"{i['name']}@{x['department'][-6:]}" for i, x in LISTINGS]
)
def test_listing_follows_gbt39046_rules(item, listing):
    assert listing["department"] in DEPT_CODES
    assert set(listing["co_departments"]) <= DEPT_CODES
    assert listing["level"] in item["levels"]
    assert listing["implementation_code"] == (
        f"{listing['department']}{listing['level']}{item['basic_code']}"
    )
    assert 0 <= listing["committed_days"] <= listing["statutory_days"]
    if listing["case_kind"] == "1":
        assert listing["committed_days"] == 0
    assert 2 <= len(listing["materials"]) <= 6
    assert 1 <= len(listing["faq"]) <= 3
    assert listing["conditions"] and listing["process_steps"] and listing["result_name"]
    assert listing["phone"] and listing["supervision_phone"] and listing["location"]
    if listing["fee"]["charged"]:
        assert listing["fee"]["basis"] and listing["fee"]["standard"]


@pytest.mark.parametrize(
    "word,item_name",
    [
        ("开饭店", "食品经营许可"),
        ("生孩子", "生育登记"),
        ("生孩子", "出生医学证明办理"),
        ("营业执照", "企业设立登记"),
        ("老年人补贴", "老年人高龄津贴申领"),
    ],
)
def test_everyday_words_find_the_right_item(word, item_name):
    assert item_name in {i["name"] for i in ITEMS if word in i["keywords"]}


def test_legal_basis_cites_real_laws():
    bases = " ".join(i["legal_basis"] for i in ITEMS)
    for law in ("《中华人民共和国食品安全法》", "《婚姻登记条例》", "《居住证暂行条例》"):
        assert law in bases


def test_hotline_catalogue_has_forty_leaves_each_with_an_existing_department():
    from yiwang.demo.hotline import category_rows

    rows = category_rows()
    keys = {row["key"] for row in DEPARTMENTS}
    codes = [row["code"] for row in rows]
    leaves = [row for row in rows if row.get("parent")]
    assert len(codes) == len(set(codes))
    assert len(leaves) >= 40
    assert all(row["parent"] in codes[: codes.index(row["code"])] for row in leaves)
    assert all(row.get("department") in keys for row in leaves)


def test_the_demo_calendar_declares_a_provisional_next_year_with_its_statutory_holidays():
    import datetime as dt

    from yiwang.calendar.overrides import load_override_file
    from yiwang.calendar.workdays import is_working_day
    from yiwang.demo.loader import DATA_DIR

    calendar = load_override_file(DATA_DIR / "calendar-provisional.yaml")
    assert set(calendar.years) == {2027}
    assert not is_working_day(dt.date(2027, 2, 8), calendar)  # 春节, a Monday
    assert not is_working_day(dt.date(2027, 10, 1), calendar)  # 国庆
    assert is_working_day(dt.date(2027, 1, 4), calendar)
