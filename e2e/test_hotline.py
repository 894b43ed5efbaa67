"""Journey 7 (issue 5 "Done when"): a broken street light reported on the portal with a photo
and a place on the map, registered, dispatched to the wrong department (routing knew
better), objected, re-dispatched with the suggestion's button, handled with a result photo,
checked, rated by the reporter, and counted on the dashboard; an Open311 client lists the
services and posts a request the operators then see; a file that is not a photo is refused
next to the photo field; another citizen cannot open the ticket; the inbox shows deadlines."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import struct
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from georeport import GeoReport
from helpers import DEMO_CITIZEN_PHONE, console_login, portal_login
from playwright.sync_api import Locator, Page, expect

LI_SI_PHONE = "13800000002"
CITY_MANAGEMENT = "示范市城市管理局"  # 城管局, cg_* staff: street lights (category 0101)
TRANSPORT = "示范市交通运输局"  # 交通局, jt_* staff
HOUSING = "示范市住房和城乡建设局"  # 住建局, zj_* staff
STREET_LIGHT = "路灯不亮或损坏"
OPEN311_KEY = "demo-open311-key"  # README, docs/open311.md
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CITY_TIME = ZoneInfo("Asia/Shanghai")  # the demo server's TIME_ZONE: the dashboard's days
TICKET_URL = re.compile(r"/console/hotline/tickets/(\d+)/$")


def _street_light_png(lit: bool) -> bytes:
    """A real 64×48 PNG: a lamp post at night, its lamp dark (reported) or lit (repaired)."""
    night, pole, lamp = (20, 30, 60), (150, 150, 160), (255, 210, 60) if lit else (70, 70, 80)
    rows = []
    for y in range(48):
        row = [night] * 64
        if y >= 14:
            row[30:34] = [pole] * 4
        elif y >= 8:
            row[20:44] = [lamp] * 24
        rows.append(b"\x00" + b"".join(bytes(p) for p in row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _photo(name: str, lit: bool = False) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": _street_light_png(lit)}


def _expect_picture(img: Locator) -> None:
    """The <img> shows the uploaded 64×48 picture (it loaded, so it was served)."""
    expect(img).to_be_visible()
    assert img.evaluate("img => img.complete && img.naturalWidth") == 64


def _staff(new_page: Callable[..., Page], username: str) -> Page:
    page = new_page()
    console_login(page, username)
    return page


def _fill_report(page: Page, description: str, *, kind: str = "投诉") -> None:
    page.get_by_label(kind, exact=True).check()
    page.locator("#id_category").select_option(label=STREET_LIGHT)
    page.locator("#id_description").fill(description)
    page.locator("#id_address").fill("东城区东湖路 12 号门口")


def _tap_map(page: Page, street: str) -> None:
    """Tap the street map where the street lies; the page fills latitude and longitude."""
    canvas = page.locator("[data-map-canvas]")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    canvas.tap(position={"x": box["width"] * 0.6, "y": box["height"] * 0.5})
    expect(page.locator("[data-map-status]")).to_contain_text(f"已选择位置:{street}")
    assert page.locator("#id_latitude").input_value().startswith("26.")
    assert page.locator("#id_longitude").input_value().startswith("119.")


def _queue_row(page: Page, number: str, queue: str = "") -> Locator:
    """Search a console queue (the centre's, or a department's inbox) for the ticket number."""
    page.goto(f"/console/hotline/?queue={queue}")
    page.get_by_label("工单编号或内容").fill(number)
    page.get_by_role("button", name="筛选").click()
    row = page.locator("main tbody tr").filter(has_text=number)
    expect(row).to_have_count(1)
    return row


def _open(row: Locator, number: str) -> None:
    row.get_by_role("link", name=number, exact=True).click()
    expect(row.page).to_have_url(TICKET_URL)


def _panel(page: Page, label: str) -> Locator:
    """The ticket page's form for one step, opened."""
    panel = page.locator("details.hotline-action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{label}$"))
    )
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def _act(page: Page, label: str, **fields: str) -> None:
    """Fill a step's form on the console ticket page and confirm it."""
    panel = _panel(page, label)
    for name, value in fields.items():  # fields are prefixed per action: a-<action>-<name>
        panel.locator(f"[name$='-{name}']").fill(value)
    panel.get_by_role("button", name=f"确认{label}").click()
    expect(page.locator(".error-summary, .notice-error")).to_have_count(0)
    expect(page.locator("body")).to_contain_text(f"{label}完成")


def _status(page: Page) -> str:
    return page.locator(".console-toolbar .tag").first.inner_text()


def _fact(page: Page, term: str) -> str:
    return (
        page.locator(".facts div")
        .filter(has=page.locator("dt", has_text=re.compile(f"^{term}$")))
        .locator("dd")
        .first.inner_text()
    )


def _figures(page: Page, department: str, first: dt.date, last: dt.date) -> dict[str, tuple]:
    """The dashboard's figures table (plain HTML): label → (value, numerator, denominator).

    The dashboard keeps a period's figures for a minute, so callers comparing before and
    after ask for two periods that hold the same tickets."""
    page.goto("/console/hotline/dashboard/")
    page.get_by_label("部门", exact=True).select_option(label=department)
    page.get_by_label("自定义日期").check()
    page.get_by_label("开始日期").fill(f"{first:%Y-%m-%d}")
    page.get_by_label("结束日期").fill(f"{last:%Y-%m-%d}")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("h1")).to_contain_text(department)
    rows = page.locator("section[aria-labelledby=figures-title] tbody tr")
    figures = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        figures[row.locator("th").inner_text().strip()] = tuple(cells[:3])
    return figures


def _count(value: str) -> int:
    return int(value) if value.isdigit() else 0


def test_street_light_is_reported_dispatched_objected_handled_rated_and_counted(
    new_page: Callable[..., Page], browser_errors: list[str], shot
):
    today = dt.datetime.now(CITY_TIME).date()
    month_start = today.replace(day=1)
    admin = _staff(new_page, "rx_admin")
    before = _figures(admin, CITY_MANAGEMENT, month_start, today)

    # 张三 reports on his phone: a photo of the dark lamp, the place tapped on the map.
    citizen = new_page(**PHONE)
    portal_login(citizen, DEMO_CITIZEN_PHONE)
    citizen.goto("/hotline/report/")
    description = (
        "东湖路 12 号门口的路灯连续三个晚上都不亮,路口很黑,老人晚上出门容易摔倒,请尽快修好。"
    )
    _fill_report(citizen, description)
    _tap_map(citizen, "东湖街道")
    citizen.locator("#id_photos").set_input_files(_photo("路灯不亮.png"))
    expect(citizen.locator("#id_reporter_name")).to_have_value("张三")
    expect(citizen.locator("#id_reporter_phone")).to_have_value(DEMO_CITIZEN_PHONE)
    shot(citizen, "50-hotline-report-phone")
    citizen.get_by_role("button", name="提交诉求").click()
    expect(citizen).to_have_url(re.compile(r"/hotline/report/done/$"))
    codes = citizen.locator(".hotline-codes dd")
    number, query_code = codes.nth(0).inner_text().strip(), codes.nth(1).inner_text().strip()
    assert re.fullmatch(r"\d{8,20}", number), number
    assert re.fullmatch(r"\d{6}", query_code), query_code
    shot(citizen, "51-hotline-report-done-phone")

    # The operator finds it in the intake queue and registers it (立案).
    operator = _staff(new_page, "rx_operator")
    _open(_queue_row(operator, number), number)
    ticket_url = urlsplit(operator.url).path
    expect(operator.locator("main")).to_contain_text(description)
    _expect_picture(operator.get_by_alt_text(re.compile("现场照片")))
    assert _fact(operator, "所属区域") == "东湖街道"
    assert _fact(operator, "来源渠道") == "网站"
    _act(operator, "立案")
    assert _status(operator) == "待派单"

    # The dispatcher: routing puts 城管局 first, but the ticket goes to 交通局 first.
    dispatcher = _staff(new_page, "rx_dispatcher")
    dispatcher.goto(ticket_url)
    suggestions = dispatcher.locator(".hotline-suggestions li")
    expect(suggestions.first.locator(".hotline-suggestion-name")).to_have_text(CITY_MANAGEMENT)
    assert 1 <= suggestions.count() <= 3
    shot(dispatcher, "52-hotline-console-suggestions")
    panel = _panel(dispatcher, "派单")
    panel.locator("select[name$='-department']").select_option(label=TRANSPORT)
    panel.get_by_role("button", name="确认派单").click()
    expect(dispatcher.locator("body")).to_contain_text("派单完成")
    assert _status(dispatcher) == "待签收"
    assert _fact(dispatcher, "主办部门") == TRANSPORT

    # 交通局 objects (退单) with its reason: street lights are not theirs.
    reason = "路灯由城管局照明所维护,不属于本局职责,请改派城管局。"
    transport = _staff(new_page, "jt_intake")
    _open(_queue_row(transport, number), number)
    _act(transport, "退单", note=reason)
    expect(transport).to_have_url(re.compile(r"/console/hotline/$"))  # no longer theirs
    assert transport.goto(ticket_url).status == 404

    # The dispatcher reads the reason in 待派单 and re-dispatches with the suggestion's button.
    row = _queue_row(dispatcher, number, "dispatch")
    expect(row).to_contain_text(reason)
    expect(row).to_contain_text("退单 1 次")
    _open(row, number)
    panel = _panel(dispatcher, "派单")
    expect(panel).to_contain_text(f"上次退单原因:{reason}")
    first = panel.locator(".hotline-suggestions li").first
    expect(first).to_contain_text(CITY_MANAGEMENT)
    first.get_by_role("button", name=re.compile("派给该部门")).click()
    expect(dispatcher.locator("body")).to_contain_text("派单完成")
    assert _fact(dispatcher, "主办部门") == CITY_MANAGEMENT
    assert "退单 1 次" in _fact(dispatcher, "流转计数")

    # 城管局 signs, repairs the light and answers with a photo of it lit.
    bureau = _staff(new_page, "cg_intake")
    row = _queue_row(bureau, number, "sign")
    expect(row.locator("td").first.locator(".tag")).to_have_text(re.compile("^(正常|即将到期)"))
    _open(row, number)
    _act(bureau, "签收")
    assert _status(bureau) == "处置中"
    result = "已更换东湖路 12 号路灯的灯泡和镇流器,当晚亮灯正常。"
    panel = _panel(bureau, "处置")
    panel.locator("[name$='-result']").fill(result)
    panel.locator("input[type=file][name$='-photos']").set_input_files(
        _photo("修复后.png", lit=True)
    )
    panel.get_by_role("button", name="确认处置").click()
    expect(bureau.locator("body")).to_contain_text("处置完成")
    assert _status(bureau) == "待核查"
    _expect_picture(bureau.get_by_alt_text(re.compile("处置结果照片")))

    # The inspector checks the repair on the spot (核查通过).
    inspector = _staff(new_page, "rx_inspector")
    inspector.goto(ticket_url)
    _act(inspector, "核查通过", note="现场核查,路灯已亮。")
    assert _status(inspector) == "待回访"

    # 张三 follows it on another device with the number and query code, and rates it.
    device = new_page(**PHONE)
    device.goto(f"/hotline/track/?number={number}")
    device.get_by_role("textbox", name=re.compile("^查询码")).fill(query_code)
    device.get_by_role("button", name="查询").click()
    expect(device).to_have_url(re.compile(f"/hotline/tickets/{number}/$"))
    expect(device.locator("main")).to_contain_text(result)
    expect(device.get_by_role("heading", name="处理结果照片")).to_be_visible()
    device.get_by_label("已解决", exact=True).check()
    device.get_by_label("满意", exact=True).check()
    device.get_by_label("意见和建议").fill("修得很快,谢谢!")
    device.get_by_role("button", name="提交评价").click()
    expect(device.locator("main .lead")).to_contain_text("已办结")
    rating = device.locator("#rating")
    expect(rating).to_contain_text("已解决")
    expect(rating.locator(".tag")).to_have_text("满意")
    shot(device, "53-hotline-ticket-rated-phone")

    citizen.goto(f"/hotline/tickets/{number}/")
    expect(citizen.locator("main .lead")).to_contain_text("已办结")
    expect(citizen.locator("main")).to_contain_text(f"已派单至{CITY_MANAGEMENT}")
    operator.goto(ticket_url)
    assert _status(operator) == "已结案"
    assert _fact(operator, "回访结果") == "已解决 · 满意"

    # The dashboard counts it for 城管局: one more ticket, followed up, satisfied.
    after = _figures(admin, CITY_MANAGEMENT, month_start, today + dt.timedelta(days=1))
    assert _count(after["登记工单"][0]) == _count(before["登记工单"][0]) + 1
    for label in ("回访率", "满意率"):
        numerator, denominator = (_count(v) for v in before[label][1:])
        assert after[label][1:] == (str(numerator + 1), str(denominator + 1)), (label, before)
    shot(admin, "54-hotline-dashboard")
    assert not browser_errors, browser_errors


def test_open311_client_lists_services_and_posts_a_request(
    new_page: Callable[..., Page], base_url: str
):
    city = GeoReport(f"{base_url}/open311/v2/", api_key=OPEN311_KEY)
    services = {s["service_code"]: s for s in city.get_service_list()}
    assert services["0101"]["service_name"] == STREET_LIGHT
    assert len(services) >= 40  # every public leaf category of the demo tree
    in_xml = GeoReport(city.root_address, output_format="xml").get_service_list()
    assert {s["service_code"] for s in in_xml} == set(services)
    definition = city.get_service_definition("0101")
    assert [a["code"] for a in definition["attributes"]][:2] == ["pole_number", "fault"]

    posted = requests.post(
        f"{city.root_address}/requests.json",
        data={
            "api_key": city.api_key,
            "service_code": "0101",
            "lat": "26.074",
            "long": "119.296",
            "address_string": "示范市东城区东湖路 30 号",
            "description": "东湖路 30 号公交站旁的路灯整晚不亮",
            "first_name": "五",
            "last_name": "王",
            "phone": "13900000009",
            "attribute[pole_number]": "LD-0330",
            "attribute[fault]": "1",
        },
        timeout=30,
    )
    assert posted.ok, posted.text
    number = posted.json()[0]["service_request_id"]
    assert city.get_service_request(number)["status"] == "open"

    operator = _staff(new_page, "rx_operator")
    _open(_queue_row(operator, number, "intake"), number)
    assert _fact(operator, "来源渠道") == "Open311 接口"
    assert _fact(operator, "分类").endswith(STREET_LIGHT)
    expect(operator.locator("main")).to_contain_text("LD-0330")


def test_a_photo_that_is_not_an_image_is_refused_next_to_the_field(
    new_page: Callable[..., Page], page: Page, browser_errors: list[str], shot
):
    marker = f"照片检查{secrets.token_hex(4)}"
    page.goto("/hotline/report/")
    _fill_report(page, f"东湖路的路灯不亮({marker})", kind="求助")
    page.get_by_label("匿名反映(不留姓名和电话)").check()
    not_a_photo = {"name": "路灯.jpg", "mimeType": "image/jpeg", "buffer": b"just some text"}
    page.locator("#id_photos").set_input_files(not_a_photo)
    page.get_by_role("button", name="提交诉求").click()

    error = page.locator(".hotline-photos #id_photos_error")
    expect(error).to_contain_text("路灯.jpg")
    expect(error).to_contain_text("不是")
    expect(page.locator(".error-summary a")).to_have_attribute("href", "#id_photos")
    expect(page.locator("#id_description")).to_have_value(re.compile(marker))  # typing kept
    expect(page).to_have_url(re.compile(r"/hotline/report/$"))
    shot(page, "56-hotline-report-photo-error")

    operator = _staff(new_page, "rx_operator")
    operator.goto("/console/hotline/?queue=intake")
    operator.get_by_label("工单编号或内容").fill(marker)
    operator.get_by_role("button", name="筛选").click()
    expect(operator.locator("main")).to_contain_text("没有符合条件的工单。")  # nothing written

    # With a real photo the same form goes through.
    page.locator("#id_photos").set_input_files(_photo("路灯.png"))
    page.get_by_role("button", name="提交诉求").click()
    expect(page).to_have_url(re.compile(r"/hotline/report/done/$"))
    expect(page.locator("main")).to_contain_text("匿名反映")
    assert not browser_errors, browser_errors


def test_another_citizen_cannot_open_a_citizens_ticket(new_page: Callable[..., Page]):
    zhang = new_page()
    portal_login(zhang, DEMO_CITIZEN_PHONE)
    zhang.goto("/my/tickets/")
    # His newest street-light ticket (the journey's, or the demo's open one) has a photo.
    zhang.locator("main").get_by_role("link", name=STREET_LIGHT).first.click()
    expect(zhang).to_have_url(re.compile(r"/hotline/tickets/\d+/$"))
    page_url = urlsplit(zhang.url).path
    photo_url = zhang.locator("main a[href*='/files/']").first.get_attribute("href")
    assert zhang.goto(photo_url).status == 200

    li = new_page()
    portal_login(li, LI_SI_PHONE)
    for url in (page_url, photo_url):
        assert li.goto(url).status == 404, url
        assert new_page().goto(url).status == 404, url  # nor to a visitor without the code


def test_department_inbox_shows_deadline_chips(new_page: Callable[..., Page], shot):
    housing = _staff(new_page, "zj_intake")  # 住建局: the demo has two of its tickets overdue
    housing.goto("/console/hotline/")
    expect(housing.locator("h1")).to_contain_text(HOUSING)
    chips = housing.locator("main tbody tr td:first-child .tag")
    expect(chips.first).to_be_visible()
    texts = chips.all_inner_texts()
    assert all(re.match("已超期 |即将到期,剩 |正常$", t) for t in texts), texts
    assert any(t.startswith("已超期") for t in texts) and "正常" in texts, texts
    expect(
        housing.locator("main tbody tr.cases-row-red .tag-red", has_text="级督办").first
    ).to_be_visible()
    shot(housing, "55-hotline-department-inbox")

    housing.get_by_role("link", name=re.compile("红灯:已超期")).click()
    expect(housing).to_have_url(re.compile("colour=red"))
    texts = chips.all_inner_texts()
    assert texts and all(t.startswith("已超期") for t in texts), texts
