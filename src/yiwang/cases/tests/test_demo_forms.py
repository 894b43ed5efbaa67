"""The demo application forms (demo/data/forms.yaml) fit the demo catalog and our schema subset."""

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from django.template.loader import render_to_string

from yiwang.cases import formschema
from yiwang.cases.formschema import (
    check_schema,
    form_fields,
    locked_fields,
    prefill,
    validate_form,
)
from yiwang.identity.tests.factories import CitizenFactory, make_id_number

SRC = Path(__file__).resolve().parents[2]
FORMS = yaml.safe_load((SRC / "demo" / "data" / "forms.yaml").read_text(encoding="utf-8"))
CATALOG = json.loads((SRC / "demo" / "data" / "catalog.json").read_text(encoding="utf-8"))
PROCESS_DIR = SRC / "workflow" / "data"
PROCESSES = {"default_approval", "parallel_review", "instant_approval"}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

LISTINGS = {
    listing["implementation_code"]: (item, listing)
    for item in CATALOG["items"]
    for listing in item["listings"]
}
ENTRIES = sorted(FORMS["listings"].items())
CODES = [code for code, _ in ENTRIES]


def staff_steps(process: str) -> set[str]:
    """User tasks of a shipped process that staff perform (not the applicant's 补正)."""
    path = PROCESS_DIR / f"{process}.bpmn"
    if not path.exists():
        return set()
    tree = ET.parse(path)  # noqa: S314 (our own shipped file)
    applicant = {
        ref.text
        for lane in tree.iter(f"{BPMN}lane")
        if (lane.get("name") or "").split(":")[0] in {"applicant", "申请人"}
        for ref in lane.iter(f"{BPMN}flowNodeRef")
    }
    return {t.get("id") for t in tree.iter(f"{BPMN}userTask")} - applicant


def test_enough_listings_have_demo_forms():
    assert len(ENTRIES) >= 12


@pytest.mark.parametrize(("code", "entry"), ENTRIES, ids=CODES)
def test_each_key_is_an_online_demo_listing(code, entry):
    assert code in LISTINGS, f"{code} is not an implementation_code in catalog.json"
    item, listing = LISTINGS[code]
    assert listing["online"] is True
    assert entry["name"] in {item["name"], listing.get("name")}


@pytest.mark.parametrize(("code", "entry"), ENTRIES, ids=CODES)
def test_each_schema_is_usable(code, entry):
    assert check_schema(entry["schema"]) == []


@pytest.mark.parametrize(("code", "entry"), ENTRIES, ids=CODES)
def test_processes_and_step_limits_fit_the_listing(code, entry):
    assert entry["process"] in PROCESSES
    _, listing = LISTINGS[code]
    if entry["process"] == "parallel_review":
        assert listing["co_departments"], "parallel review needs a joint department"
    steps = entry.get("step_days")
    if steps is None:
        return
    assert set(steps) <= staff_steps(entry["process"]), set(steps) - staff_steps(entry["process"])
    assert all(isinstance(d, int) and d > 0 for d in steps.values())
    reviews = [steps.get(s, 0) for s in ("review_lead", "review_joint")]
    total = sum(d for s, d in steps.items() if s not in {"review_lead", "review_joint"})
    assert total + max(reviews) <= listing["committed_days"]


def test_the_demo_covers_every_kind_of_process_and_applicant():
    by_process = {p: {e["name"] for _, e in ENTRIES if e["process"] == p} for p in PROCESSES}
    assert by_process["instant_approval"] == {"老年人高龄津贴申领"}
    assert by_process["parallel_review"]
    names = {e["name"] for _, e in ENTRIES}
    assert {"企业设立登记", "个体工商户设立登记", "食品经营许可", "生育登记", "居住证办理"} <= names
    company_forms = [e for _, e in ENTRIES if "credit_code" in e["schema"]["properties"]]
    assert company_forms, "at least one form for company applicants"


@pytest.mark.parametrize(("code", "entry"), ENTRIES, ids=CODES)
def test_an_empty_submission_names_every_required_field(code, entry):
    schema = entry["schema"]
    errors = validate_form(schema, {})
    assert set(errors) == set(schema["required"])
    for name, messages in errors.items():
        assert schema["properties"][name]["title"] in messages[0]


@pytest.mark.parametrize(("code", "entry"), ENTRIES, ids=CODES)
def test_each_form_renders(code, entry):
    html = render_to_string(
        "cases/includes/form_fields.html", {"fields": form_fields(entry["schema"], {}, {})}
    )
    for prop in entry["schema"]["properties"].values():
        assert prop["title"] in html


ELDERLY = next(e for _, e in ENTRIES if e["process"] == "instant_approval")["schema"]


def test_the_allowance_form_is_filled_from_verified_identity(monkeypatch):
    monkeypatch.setattr(formschema.timezone, "localdate", lambda: dt.date(2026, 3, 1))
    verified = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    elder = CitizenFactory.build(
        real_name="林秀珍",
        id_number=make_id_number(3, region="359902", birth=dt.date(1944, 3, 2)),
        phone="13905900001",
        real_name_verified_at=verified,
        phone_verified_at=verified,
    )
    data = prefill(ELDERLY, elder)
    assert data["applicant_age"] == 81
    assert {"applicant_name", "id_number", "applicant_age"} <= locked_fields(ELDERLY, elder)
    answers = {
        "household_district": "359902",
        "residence_in_city": True,
        "receives_other_allowance": False,
        "bank_card_number": "6214830000000001",
        "promise": True,
    }
    assert validate_form(ELDERLY, {**data, **answers}) == {}
    props = ELDERLY["properties"]
    assert props["residence_in_city"]["type"] == "boolean"
    assert props["receives_other_allowance"]["type"] == "boolean"
