"""Import/export (docs/catalog-format.md): all-or-nothing, errors with their place, idempotent."""

import copy
import csv
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from yiwang.audit.models import AuditEvent
from yiwang.catalog.exchange import (
    CatalogImportError,
    export_catalog,
    export_catalog_csv,
    import_catalog,
    import_catalog_csv,
)
from yiwang.catalog.models import (
    ListingStatusChange,
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
)
from yiwang.identity.tests.factories import DepartmentFactory
from yiwang.search.selectors import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments(db):
    return (
        DepartmentFactory(name="示范市市场监督管理局", credit_code="11350100MB0000001X"),
        DepartmentFactory(name="示范市卫生健康委员会", credit_code="11350100MB0000002X"),
    )


def sample() -> dict:
    return {
        "format": "yiwang-catalog/1",
        "themes": [
            {
                "code": "open-restaurant",
                "name": "开办餐饮店",
                "audience": "company",
                "is_life_event": True,
                "description": "从营业执照到食品经营许可",
                "sort_order": 1,
            },
            {
                "code": "birth",
                "name": "生育收养",
                "audience": "person",
                "is_life_event": True,
                "description": "",
                "sort_order": 2,
            },
        ],
        "items": [
            {
                "basic_code": "000104002000",
                "name": "食品经营许可",
                "item_type": "01",
                "levels": [3, 4],
                "legal_basis": "《中华人民共和国食品安全法》第三十五条",
                "service_objects": ["1", "2"],
                "keywords": ["开饭店", "开餐馆", "卖熟食"],
                "themes": ["open-restaurant"],
                "listings": [
                    {
                        "department": "11350100MB0000001X",
                        "level": 3,
                        "implementation_code": "11350100MB0000001X3000104002000",
                        "name": "",
                        "status": "1",
                        "case_kind": "2",
                        "statutory_days": 20,
                        "committed_days": 10,
                        "limit_explanation": "",
                        "conditions": "有与经营的食品品种相适应的经营场所",
                        "process_steps": ["申请", "受理", "审查", "决定", "送达"],
                        "co_departments": ["11350100MB0000002X"],
                        "handling_unit": "食品经营监管处",
                        "intermediary_service": "",
                        "quantity_limit": "",
                        "result_name": "食品经营许可证",
                        "result_sample": "",
                        "fee": {"charged": False, "basis": "", "standard": ""},
                        "scope": "3",
                        "service_objects": ["1", "2"],
                        "handling_forms": ["1", "2", "3"],
                        "special_procedure": "",
                        "appointment": True,
                        "online_payment": False,
                        "express": True,
                        "online": True,
                        "visits_required": 0,
                        "location": "示范市政务服务中心一楼 A12-A15 窗口",
                        "hours": "工作日 9:00-12:00, 13:30-17:00",
                        "phone": "0591-12345678",
                        "supervision_phone": "0591-12345",
                        "faq": [{"question": "可以代办吗?", "answer": "可以,需授权委托书。"}],
                        "materials": [
                            {
                                "name": "食品经营许可申请书",
                                "issuer": "申请人自备",
                                "originals": 1,
                                "copies": 0,
                                "required": True,
                                "notes": "",
                                "sample": "",
                            },
                            {
                                "name": "经营场所证明",
                                "issuer": "",
                                "originals": 0,
                                "copies": 1,
                                "required": False,
                                "notes": "租赁合同或产权证明",
                                "sample": "",
                            },
                        ],
                    }
                ],
            },
            {
                "basic_code": "000201001000",
                "name": "出生医学证明办理",
                "item_type": "20",
                "levels": [4],
                "legal_basis": "",
                "service_objects": ["1"],
                "keywords": [],
                "themes": ["birth"],
                "listings": [
                    {
                        "department": "11350100MB0000002X",
                        "level": 4,
                        "status": "1",
                        "case_kind": "1",
                        "statutory_days": 0,
                        "committed_days": 0,
                        "materials": [],
                    }
                ],
            },
        ],
        "power_items": [
            {
                "code": "XK-SCJG-001",
                "name": "食品经营许可",
                "department": "11350100MB0000001X",
                "power_type": "01",
                "duty": "受理、审查、决定、监管",
                "accountability": "不依法履职的,依法追责",
                "legal_basis": "《中华人民共和国食品安全法》",
                "items": ["000104002000"],
            }
        ],
    }


def counts():
    return tuple(
        m.objects.count()
        for m in (Theme, ServiceItem, ServiceListing, MaterialRequirement, PowerItem)
    )


def test_import_creates_everything(departments, platform_admin):
    report = import_catalog(sample(), platform_admin)
    assert counts() == (2, 2, 2, 2, 1)
    assert report.created == {"themes": 2, "items": 2, "listings": 2, "power_items": 1}
    second = ServiceListing.objects.get(item__basic_code="000201001000")
    assert second.implementation_code == "11350100MB0000002X4000201001000"
    assert second.service_objects == ["1"]  # defaults to the item's
    first = ServiceListing.objects.get(item__basic_code="000104002000")
    assert [m.code[-3:] for m in first.materials.order_by("sort_order")] == ["001", "002"]
    assert search("listing", "开饭店").total == 1
    assert AuditEvent.objects.filter(action="catalog.import").count() == 1


def test_importing_twice_changes_nothing(departments):
    import_catalog(sample())
    events = AuditEvent.objects.count()
    report = import_catalog(sample())
    assert report.created == {} and report.updated == {}
    assert report.unchanged == {"themes": 2, "items": 2, "listings": 2, "power_items": 1}
    assert AuditEvent.objects.count() == events + 1  # only the import summary


def test_import_updates_and_audits_the_difference(departments):
    import_catalog(sample())
    data = sample()
    data["items"][0]["listings"][0]["committed_days"] = 5
    report = import_catalog(data)
    assert report.updated == {"listings": 1}
    event = AuditEvent.objects.filter(action="catalog.listing.update").get()
    assert (event.before, event.after) == ({"committed_days": 10}, {"committed_days": 5})


def test_import_status_follows_the_transition_table(departments):
    import_catalog(sample())
    data = sample()
    data["items"][0]["listings"][0]["status"] = "3"
    assert import_catalog(data).status_changes == 1
    assert ListingStatusChange.objects.get().reason == "目录导入"
    assert search("listing", "开饭店").total == 0
    data["items"][0]["listings"][0]["status"] = "1"
    with pytest.raises(CatalogImportError) as exc:
        import_catalog(data)
    assert "items[0].listings[0].status" in exc.value.errors


BAD_ROWS = [
    (
        lambda d: d["items"][0]["listings"][0].update(committed_days=30),
        "items[0].listings[0].committed_days",
        "不能超过法定办结时限",
    ),
    (
        lambda d: d["items"][1]["listings"][0].update(committed_days=5, statutory_days=5),
        "items[1].listings[0].committed_days",
        "即办件",
    ),
    (lambda d: d["items"][0].update(basic_code="12345"), "items[0].basic_code", "12 位"),
    (
        lambda d: d["items"][0]["listings"][0]["materials"][1].update(originals="两份"),
        "items[0].listings[0].materials[1].originals",
        "",
    ),
    (
        lambda d: d["items"][0]["listings"][0].update(department="91350100M000100Y43"),
        "items[0].listings[0].department",
        "不存在",
    ),
    (
        lambda d: d["items"][0]["listings"][0].update(implementation_code="X" * 31),
        "items[0].listings[0].implementation_code",
        "",
    ),
    (lambda d: d["items"][0].update(themes=["nope"]), "items[0].themes", "nope"),
    (
        lambda d: d["items"][0]["listings"][0].update(implementation_code=["X"]),
        "items[0].listings[0].implementation_code",
        "不能是列表",
    ),
    (lambda d: d["items"][0].update(name={"zh": "x"}), "items[0].name", "不能是列表"),
    (lambda d: d["items"][0].update(item_type="99"), "items[0].item_type", ""),
    (
        lambda d: d["items"][0]["listings"][0]["fee"].update(charged="maybe"),
        "items[0].listings[0].fee.charged",
        "",
    ),
    (
        lambda d: d["items"][0]["listings"][0].update(colour="red"),
        "items[0].listings[0].colour",
        "未知字段",
    ),
    (lambda d: d["power_items"][0].update(items=["999999999999"]), "power_items[0].items", ""),
    (lambda d: d["items"].append(copy.deepcopy(d["items"][1])), "items[2].basic_code", "重复"),
    (lambda d: d.update(format="other/1"), "format", ""),
]


@pytest.mark.parametrize(("mutate", "path", "message"), BAD_ROWS)
def test_bad_rows_are_reported_with_their_path_and_nothing_is_written(
    departments, mutate, path, message
):
    data = sample()
    mutate(data)
    with pytest.raises(CatalogImportError) as exc:
        import_catalog(data)
    assert path in exc.value.errors, exc.value.errors
    assert message in " ".join(exc.value.errors[path])
    assert counts() == (0, 0, 0, 0, 0)
    assert not AuditEvent.objects.exists()


def test_all_errors_are_collected_at_once(departments):
    data = sample()
    data["items"][0]["listings"][0]["committed_days"] = 30
    data["items"][1]["item_type"] = "99"
    data["power_items"][0]["department"] = "nobody"
    with pytest.raises(CatalogImportError) as exc:
        import_catalog(data)
    assert {
        "items[0].listings[0].committed_days",
        "items[1].item_type",
        "power_items[0].department",
    } <= set(exc.value.errors)


def test_only_platform_admins_import(departments, admin_x):
    with pytest.raises(PermissionDenied):
        import_catalog(sample(), admin_x)


def _wipe_catalog():
    PowerItem.objects.all().delete()
    ServiceListing.objects.all().delete()
    ServiceItem.objects.all().delete()
    Theme.objects.all().delete()


def test_json_round_trip_is_identical(departments):
    import_catalog(sample())
    first = export_catalog()
    _wipe_catalog()
    import_catalog(first)
    assert export_catalog() == first
    assert first["items"][0]["listings"][0]["fee"] == {
        "charged": False,
        "basis": "",
        "standard": "",
    }


def test_csv_round_trip_is_identical(departments):
    import_catalog(sample())
    first = export_catalog_csv()
    json_first = export_catalog()
    _wipe_catalog()
    import_catalog_csv(first)
    assert export_catalog_csv() == first
    assert export_catalog() == json_first


def _tables(blob: bytes) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig")))
            )
            for name in archive.namelist()
        }


def _zip(tables: dict[str, list[dict]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in tables.items():
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["code"])
            writer.writeheader()
            writer.writerows(rows)
            archive.writestr(f"{name}.csv", text.getvalue())
    return buffer.getvalue()


def test_csv_errors_name_file_line_and_column(departments):
    import_catalog(sample())
    tables = _tables(export_catalog_csv())
    _wipe_catalog()
    tables["listings"][1]["committed_days"] = "30"
    tables["materials"][0]["copies"] = "x"
    with pytest.raises(CatalogImportError) as exc:
        import_catalog_csv(_zip(tables))
    assert "listings.csv line 3, column committed_days" in exc.value.errors
    assert "materials.csv line 2, column copies" in exc.value.errors
    assert counts() == (0, 0, 0, 0, 0)


def test_csv_from_a_directory(departments, tmp_path):
    import_catalog(sample())
    with zipfile.ZipFile(io.BytesIO(export_catalog_csv())) as archive:
        archive.extractall(tmp_path)
    report = import_catalog_csv(tmp_path)
    assert report.unchanged["listings"] == 2


def test_management_commands_round_trip(departments, tmp_path):
    source = tmp_path / "catalog.json"
    source.write_text(json.dumps(sample(), ensure_ascii=False), encoding="utf-8")
    call_command("import_catalog", str(source), stdout=io.StringIO())
    out_json = tmp_path / "out.json"
    out_zip = tmp_path / "out.zip"
    call_command("export_catalog", "--format", "json", "-o", str(out_json))
    call_command("export_catalog", "--format", "csv", "-o", str(out_zip))
    assert json.loads(out_json.read_text(encoding="utf-8")) == export_catalog()
    call_command("import_catalog", str(out_zip), stdout=io.StringIO())
    assert counts() == (2, 2, 2, 2, 1)


def test_management_command_prints_every_error(departments, tmp_path):
    data = sample()
    data["items"][0]["listings"][0]["committed_days"] = 30
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as exc:
        call_command("import_catalog", str(source), stdout=io.StringIO())
    assert "items[0].listings[0].committed_days" in str(exc.value)
