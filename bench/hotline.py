"""12345 hotline benchmarks (issue 5, "Measure"), each against `GET /healthz` in the same run.

    .venv/bin/python bench/hotline.py                 # what make bench runs: intake, dispatch and
                                                      # routing on SQLite (as `make run`), then
                                                      # 1,000,000 tickets on a throwaway PostgreSQL
                                                      # (inbox, metrics, and intake at that size)
    .venv/bin/python bench/hotline.py --postgres      # every part on PostgreSQL 15
    DATABASE_URL=postgres://u@host:port/db bench/hotline.py   # that server (a scratch database)
    .venv/bin/python bench/hotline.py --parts scale --tickets 200000   # one part, smaller

1. intake: wrk POSTs `/api/v1/hotline/tickets/` (JSON, a varied description, category and place,
   token auth rotating over many verified citizens, a new Idempotency-Key each), then Open311
   `POST /open311/v2/requests.json` (form-encoded, the demo key, per-key throttle raised).
2. dispatch: registered tickets made through the services beforehand; wrk POSTs
   `{"action": "dispatch"}` to each one's `/act/` once, as the centre's dispatcher.
3. scale: 1,000,000 tickets (with their steps and 1.2 M calls) generated in SQL on PostgreSQL;
   the department and centre inboxes (first page + queue counts) over HTTP and in-process, and
   the monthly figures for the city and one department, p95 against the goals.
4. routing: top-1 / top-3 on the held-out split of the demo's closed tickets
   (`routing_train`), and `routing.suggest()` per call in-process.

docs/benchmarks.md ("Hotline") explains the figures. Goals are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import http.client
import io
import json
import math
import os
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import (  # noqa: E402
    MD5,
    PGBIN,
    ThrowawayPostgres,
    get_json,
    healthz_lua,
    line,
    percentile,
    scratch_database,
    setup_django,
    wrk_run,
)
from run import RESULTS, ensure_wrk, goal, log, serve_blocking_threads  # noqa: E402
from server import DemoServer  # noqa: E402

PARTS = ("intake", "dispatch", "scale", "routing")
GOAL_INBOX_P95_MS = 50.0
GOAL_METRICS_P95_MS = 300.0
OPEN311_KEY = "demo-open311-key"
DEMO_CENTRE_STAFF = {"operator": "rx_operator", "dispatcher": "rx_dispatcher"}
PAGE = 20  # REST_FRAMEWORK PAGE_SIZE: the inbox's first page


def timed(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": statistics.median(samples),
        "p95_ms": percentile(samples, 95),
        "max_ms": max(samples),
    }


# ---------------------------------------------------------------- what callers say


def report_pool(per_category: int, seed: int = 5) -> list[dict]:
    """Reports as callers word them, on the demo streets: the demo's own phrasebook
    (yiwang.demo.hotline_tickets), so texts, categories and places match."""
    from yiwang.demo.hotline_tickets import Atlas, Phrasebook, phrases
    from yiwang.hotline.models import Area, Category

    data = phrases()
    rng = random.Random(seed)
    book, atlas = Phrasebook(data), Atlas(data["streets"], rng)
    leaves = {
        c.code: c
        for c in Category.objects.filter(is_active=True, children=None).exclude(department=None)
    }
    areas = dict(Area.objects.values_list("code", "pk"))
    pool = []
    for code in sorted(book.categories):
        category = leaves.get(code)
        if category is None:
            continue
        for _ in range(per_category):
            place = atlas.place(rng)
            kind = book.kind(code, rng)
            text = book.describe(code, kind, place, rng)
            pool.append(
                {
                    "code": code,
                    "category": category.pk,
                    "department": category.department_id,
                    "public": category.is_public,
                    "kind": kind,
                    "text": text,
                    "address": place.address(text),
                    "lat": str(place.latitude),
                    "lng": str(place.longitude),
                    "area": areas.get(place.area_code),
                }
            )
    if not pool:
        raise SystemExit("no demo categories with a department: did load_demo run?")
    return pool


def citizens(count: int) -> list[str]:
    """API tokens of `count` verified citizens (made once per database)."""
    from django.db import transaction
    from django.test.utils import override_settings

    from yiwang.cases.tests.factories import verified_citizen
    from yiwang.identity.models import User
    from yiwang.identity.services import issue_api_token
    from yiwang.identity.tests.factories import make_id_number

    tokens = []
    with override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        for n in range(count):
            user = User.objects.filter(username=f"hlbench{n}").first() or verified_citizen(
                username=f"hlbench{n}",
                phone=f"1990000{n:04d}",
                email=f"hlbench{n}@example.cn",
                id_number=make_id_number(700_000 + n, region="350102"),
            )
            tokens.append(issue_api_token(user))
    return tokens


def staff_token(username: str) -> tuple[object, str]:
    from yiwang.identity.models import User
    from yiwang.identity.services import issue_api_token

    user = User.objects.get(username=username)
    return user, issue_api_token(user)


# ---------------------------------------------------------------- wrk scripts


POST_LUA = """
dofile({report})
local bodies = {{}}
local counter = 0
init = function(args)
  for row in io.lines({bodies_path}) do bodies[#bodies + 1] = row end
end
request = function()
  counter = counter + 1
  local n = counter * 7 + (tid or 0) * 13
  local headers = {{["Content-Type"] = {content_type}}}
  if #tokens > 0 then
    headers["Authorization"] = "Token " .. tokens[(n % #tokens) + 1]
  end
  if run_id ~= "" then
    headers["Idempotency-Key"] = run_id .. "-" .. (tid or 0) .. "-" .. counter
  end
  local body = bodies[(counter * {threads} + (tid or 0)) % #bodies + 1]
  return wrk.format("POST", {path}, headers, body)
end
local threads_started = 0
setup = function(thread)
  threads_started = threads_started + 1
  thread:set("tid", threads_started)
end
"""

# Each thread walks its share of the ids once; past the end it repeats the last one, which
# the server refuses (409): an error in the count says the run needed more tickets.
DISPATCH_LUA = """
dofile({report})
local counter = 0
request = function()
  local i = ((tid or 1) - 1) + counter * {threads} + 1
  counter = counter + 1
  if i > #ids then i = #ids end
  local headers = {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. token,
    ["Idempotency-Key"] = run_id .. "-" .. (tid or 0) .. "-" .. counter,
  }}
  return wrk.format("POST", "/api/v1/hotline/tickets/" .. ids[i] .. "/act/", headers,
                    '{{"action": "dispatch"}}')
end
local threads_started = 0
setup = function(thread)
  threads_started = threads_started + 1
  thread:set("tid", threads_started)
end
"""


def lua_strings(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def post_lua(
    args, path: str, bodies: Path, content_type: str, tokens: list[str], run_id: str
) -> str:
    head = f"tokens = {lua_strings(tokens)}\nrun_id = {json.dumps(run_id)}\n"
    return head + POST_LUA.format(
        report=json.dumps(str(HERE / "report.lua")),
        bodies_path=json.dumps(str(bodies)),
        content_type=json.dumps(content_type),
        path=json.dumps(path),
        threads=args.threads,
    )


def dispatch_lua(args, ids: list[int], token: str, run_id: str) -> str:
    head = (
        f"ids = {{{', '.join(map(str, ids))}}}\ntoken = {json.dumps(token)}\n"
        f"run_id = {json.dumps(run_id)}\n"
    )
    return head + DISPATCH_LUA.format(
        report=json.dumps(str(HERE / "report.lua")), threads=args.threads
    )


def http_post(base_url: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- 1. intake


def citizen_body(row: dict) -> dict:
    return {
        "channel": "web",
        "kind": row["kind"],
        "description": row["text"],
        "category": row["category"],
        "address": row["address"],
        "latitude": row["lat"],
        "longitude": row["lng"],
    }


def open311_body(row: dict, n: int) -> dict:
    body = {
        "api_key": OPEN311_KEY,
        "service_code": row["code"],
        "lat": row["lat"],
        "long": row["lng"],
        "address_string": row["address"],
        "description": row["text"],
    }
    if n % 2:  # half leave a name and a phone for the SMS, as app users mostly do
        body |= {"first_name": "某", "last_name": "王", "phone": f"1980000{n % 10000:04d}"}
    return body


def post_lua_maker(args, path: str, bodies: Path, content_type: str, tokens: list[str]):
    """A wrk script per run id; citizens send a new Idempotency-Key each (Open311 has none)."""

    def make(run_id: str) -> str:
        return post_lua(args, path, bodies, content_type, tokens, run_id if tokens else "")

    return make


def intake_run(server, args, wrk_bin: str, baseline: dict, label: str, channel: str, make) -> dict:
    from yiwang.hotline.models import Ticket

    wrk_run(wrk_bin, server.base_url, make("w" + secrets.token_hex(3)), args, 2)
    before = Ticket.objects.filter(channel=channel).count()
    r = wrk_run(wrk_bin, server.base_url, make(secrets.token_hex(4)), args, args.seconds)
    # Requests still in flight when wrk stops may land after it: count a moment later.
    time.sleep(1)
    r["tickets_created"] = Ticket.objects.filter(channel=channel).count() - before
    r["ratio_vs_healthz"] = r["rps"] / baseline["rps"]
    log(line(label, r))
    log(
        f"      ratio {label.split()[1]}/healthz {r['ratio_vs_healthz']:.3f};"
        f" non-2xx {r['errors']['status']}, socket errors"
        f" {r['error_count'] - r['errors']['status']};"
        f" {r['tickets_created']} tickets written for {r['requests']} requests"
    )
    return r


def part_intake(server: DemoServer, args, wrk_bin: str, baseline: dict, pool: list[dict]) -> dict:
    from yiwang.hotline.models import Ticket
    from yiwang.interop.models import Open311Attribute

    started = time.monotonic()
    tokens = citizens(args.citizens)
    log(f"   {len(tokens)} verified citizens with API tokens ({time.monotonic() - started:.1f} s)")
    base = server.base_url
    public = [row for row in pool if row["public"]]
    with_required = set(
        Open311Attribute.objects.filter(required=True).values_list("category__code", flat=True)
    )
    open311_rows = [row for row in public if row["code"] not in with_required]
    tmp = Path(tempfile.mkdtemp(prefix="yiwang-bench-hotline-"))
    web_path, o311_path = tmp / "web.jsonl", tmp / "open311.txt"
    web_path.write_text(
        "\n".join(json.dumps(citizen_body(r), ensure_ascii=False) for r in public) + "\n"
    )
    o311_path.write_text(
        "\n".join(urlencode(open311_body(r, n)) for n, r in enumerate(open311_rows)) + "\n"
    )
    result: dict = {
        "citizens": len(tokens),
        "texts": len(public),
        "open311_services": len({r["code"] for r in open311_rows}),
    }
    try:
        # One of each first: a refusal here would make wrk measure error pages.
        status, raw = http_post(
            base,
            "/api/v1/hotline/tickets/",
            json.dumps(citizen_body(public[0]), ensure_ascii=False).encode(),
            {"Content-Type": "application/json", "Authorization": f"Token {tokens[0]}"},
        )
        if status != 201:
            raise SystemExit(f"POST /api/v1/hotline/tickets/ answered {status}: {raw[:600]!r}")
        status, raw = http_post(
            base,
            "/open311/v2/requests.json",
            urlencode(open311_body(open311_rows[0], 1)).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status not in (200, 201):
            raise SystemExit(f"POST /open311/v2/requests.json answered {status}: {raw[:600]!r}")

        result["web"] = intake_run(
            server, args, wrk_bin, baseline, "POST hotline/tickets (web)", Ticket.Channel.WEB,
            post_lua_maker(args, "/api/v1/hotline/tickets/", web_path, "application/json", tokens),
        )  # fmt: skip
        result["open311"] = intake_run(
            server, args, wrk_bin, baseline, "POST open311 requests.json", Ticket.Channel.OPEN311,
            post_lua_maker(args, "/open311/v2/requests.json", o311_path,
                           "application/x-www-form-urlencoded", []),
        )  # fmt: skip
    finally:
        for path in (web_path, o311_path):
            path.unlink(missing_ok=True)
        tmp.rmdir()
    result["tickets_in_database"] = Ticket.objects.count()
    bodies = iter(public * 10)
    result["profile"] = in_process(
        "POST /api/v1/hotline/tickets/",
        lambda client: client.post(
            "/api/v1/hotline/tickets/",
            json.dumps(citizen_body(next(bodies)), ensure_ascii=False),
            content_type="application/json",
            headers={
                "Authorization": f"Token {tokens[0]}",
                "Idempotency-Key": secrets.token_hex(8),
            },
        ),
        201,
    )
    return result


def in_process(label: str, request, expect: int, rounds: int = 40) -> dict:
    """One request through Django's test client (no HTTP, no concurrency): its time, its
    SQL statements, and a profile of `rounds` more."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def one():
        response = request(client)
        if response.status_code != expect:
            raise SystemExit(f"{label}: {response.status_code} {response.content[:400]!r}")

    for _ in range(3):
        one()
    times = sample(one, rounds, warm=0)
    log(
        f"   {label} in-process (test client, one at a time): p50"
        f" {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms"
    )
    return {
        "inprocess": timed(times),
        "sql": slowest_sql(one, label, connection.vendor == "postgresql", top=3),
        **profile(one, rounds, f"{label} (test client)"),
    }


# ---------------------------------------------------------------- 2. dispatch


def registered_tickets(count: int, pool: list[dict]) -> list[int]:
    """`count` tickets reported by phone and registered by the centre's operator, through the
    services (so deadlines, events, audit and routing suggestion are all real)."""
    from django.db import transaction

    from yiwang.hotline import services
    from yiwang.hotline.models import Category

    operator, _token = staff_token(DEMO_CENTRE_STAFF["operator"])
    categories = {c.pk: c for c in Category.objects.filter(pk__in={r["category"] for r in pool})}
    ids = []
    for start in range(0, count, 100):
        with transaction.atomic():
            for n in range(start, min(count, start + 100)):
                row = pool[(n * 7) % len(pool)]
                ticket = services.report(
                    operator,
                    channel="phone",
                    kind=row["kind"],
                    description=row["text"],
                    category=categories[row["category"]],
                    address=row["address"],
                    latitude=row["lat"],
                    longitude=row["lng"],
                    reporter_name="王某",
                    reporter_phone=f"1970000{n % 10000:04d}",
                )
                ids.append(services.act(operator, ticket, "register").pk)
    return ids


def dispatch_count(args, intake: dict | None) -> int:
    """Enough registered tickets for the run: twice what intake's rate suggests (a dispatch
    costs about what a report does), at least 300; --dispatch-tickets overrides."""
    if args.dispatch_tickets:
        return args.dispatch_tickets
    rate = intake["web"]["rps"] if intake else 50.0
    return max(300, math.ceil(2 * rate * args.seconds))


def part_dispatch(
    server: DemoServer, args, wrk_bin: str, baseline: dict, pool: list[dict], count: int
) -> dict:
    from yiwang.hotline.models import Ticket

    _dispatcher, token = staff_token(DEMO_CENTRE_STAFF["dispatcher"])
    warm = min(150, count)
    started = time.monotonic()
    ids = registered_tickets(count + warm, pool)
    made_s = time.monotonic() - started
    log(
        f"   {len(ids)} tickets reported and registered through the services in {made_s:.1f} s"
        f" ({made_s / len(ids) * 1000:.1f} ms each, in-process)"
    )
    warm_ids, ids = ids[:warm], ids[warm:]
    wrk_run(
        wrk_bin,
        server.base_url,
        dispatch_lua(args, warm_ids, token, "w" + secrets.token_hex(3)),
        args,
        2,
    )
    r = wrk_run(
        wrk_bin,
        server.base_url,
        dispatch_lua(args, ids, token, secrets.token_hex(4)),
        args,
        args.seconds,
    )
    time.sleep(1)
    dispatched = Ticket.objects.filter(pk__in=ids, status=Ticket.Status.DISPATCHED).count()
    r["ratio_vs_healthz"] = r["rps"] / baseline["rps"]
    r["tickets_dispatched"] = dispatched
    r["tickets_prepared"] = len(ids)
    r["ran_out"] = dispatched >= len(ids)
    log(line("POST tickets/{id}/act dispatch", r))
    log(
        f"      ratio dispatch/healthz {r['ratio_vs_healthz']:.3f}; {dispatched} of {len(ids)}"
        f" prepared tickets dispatched; non-2xx {r['errors']['status']}"
        + ("; RAN OUT of tickets: raise --dispatch-tickets" if r["ran_out"] else "")
    )
    spare = iter(registered_tickets(100, pool))
    r["profile"] = in_process(
        "POST /api/v1/hotline/tickets/{id}/act/ dispatch",
        lambda client: client.post(
            f"/api/v1/hotline/tickets/{next(spare)}/act/",
            {"action": "dispatch"},
            content_type="application/json",
            headers={"Authorization": f"Token {token}", "Idempotency-Key": secrets.token_hex(8)},
        ),
        200,
    )
    return {"prepare_seconds": made_s, "prepare_ms_each": made_s / (len(ids) + warm) * 1000, **r}


# ---------------------------------------------------------------- 3. scale (PostgreSQL)

# Leaves of the demo tree with their department, a weight so a few categories (and so
# departments) carry most tickets, and the slice of bench_text that is theirs.
TICKETS_SQL = """
INSERT INTO hotline_ticket (number, query_code, channel, kind, description, address, latitude,
  longitude, area_id, is_anonymous, reporter_name, reporter_phone, reporter_phone_index, status,
  lead_department_id, category_id, created_at, registered_at, dispatched_at, signed_at,
  handled_at, checked_at, closed_at, dispatch_due, sign_due, handle_due, check_due, due_at,
  warn_at, signed_on_time, handled_on_time, followed_up_at, solved, satisfaction, result,
  objections, returns, reopens, postponed_days, escalation_level, repeat_of_id, merged_into_id,
  suggested_department_id, suggestion_confidence, created_by_id, reporter_id)
SELECT to_char(x.created, 'YYYYMMDD') || lpad(x.g::text, 7, '0'),
  lpad((x.g %% 999983)::text, 6, '0'),
  (ARRAY['phone','phone','phone','phone','phone','phone','web','app','mini','mini',
         'inspector','company','open311'])[1 + floor(x.r2 * 13)::int],
  t.kind, t.body, t.address, t.lat, t.lng, t.area_id, x.r6 < 0.05,
  CASE WHEN x.r6 < 0.05 THEN '' ELSE '王某' END,
  CASE WHEN x.r6 < 0.05 THEN '' ELSE %(phone)s END,
  CASE WHEN x.r6 < 0.05 THEN '' ELSE 'bench' || (x.g %% 200000) END,
  x.st,
  CASE WHEN x.st IN ('dispatched','signed','handled','checked','closed') THEN c.dept_id END,
  c.cat_id, x.created,
  CASE WHEN x.st NOT IN ('reported','verified','answered','rejected','merged')
       THEN x.created + interval '20 minutes' END,
  CASE WHEN x.st IN ('dispatched','signed','handled','checked','closed')
       THEN x.created + interval '1 hour' END,
  CASE WHEN x.st IN ('signed','handled','checked','closed') THEN x.created + interval '3 hours' END,
  CASE WHEN x.st IN ('handled','checked','closed') THEN x.created + interval '2 days' END,
  CASE WHEN x.st IN ('checked','closed') THEN x.created + interval '3 days' END,
  CASE WHEN x.st = 'closed' THEN x.created + interval '5 days'
       WHEN x.st = 'answered' THEN x.created + interval '10 minutes'
       WHEN x.st IN ('rejected','merged') THEN x.created + interval '1 hour' END,
  x.created + interval '2 hours',
  CASE WHEN x.st IN ('dispatched','signed','handled','checked','closed')
       THEN x.created + interval '5 hours' END,
  CASE WHEN x.st IN ('signed','handled','checked','closed') THEN x.created + interval '7 days' END,
  CASE WHEN x.st IN ('handled','checked','closed') THEN x.created + interval '5 days' END,
  CASE x.st WHEN 'reported' THEN x.created + interval '2 hours'
            WHEN 'verified' THEN x.created + interval '2 hours'
            WHEN 'registered' THEN x.created + interval '2 hours'
            WHEN 'dispatched' THEN x.created + interval '5 hours'
            WHEN 'signed' THEN x.created + interval '7 days'
            WHEN 'handled' THEN x.created + interval '5 days'
            WHEN 'checked' THEN x.created + interval '5 days' END,
  CASE x.st WHEN 'reported' THEN x.created + interval '90 minutes'
            WHEN 'verified' THEN x.created + interval '90 minutes'
            WHEN 'registered' THEN x.created + interval '90 minutes'
            WHEN 'dispatched' THEN x.created + interval '4 hours'
            WHEN 'signed' THEN x.created + interval '6 days'
            WHEN 'handled' THEN x.created + interval '4 days'
            WHEN 'checked' THEN x.created + interval '4 days' END,
  CASE WHEN x.st IN ('signed','handled','checked','closed') THEN x.r3 < 0.92 END,
  CASE WHEN x.st IN ('handled','checked','closed') THEN x.r4 < 0.88 END,
  CASE WHEN x.st = 'closed' AND x.r6 >= 0.05 AND x.r1 < 0.85 THEN x.created + interval '4 days' END,
  CASE WHEN x.st = 'closed' AND x.r6 >= 0.05 AND x.r1 < 0.85 THEN x.r2 < 0.9 END,
  CASE WHEN x.st = 'closed' AND x.r6 >= 0.05 AND x.r1 < 0.85
       THEN 1 + floor(x.r5 * x.r5 * 5)::int END,
  CASE WHEN x.st IN ('handled','checked','closed')
       THEN '已派人到现场处理,问题已解决,已向反映人说明。'
       WHEN x.st = 'answered' THEN '已按知识库口径当场答复。' ELSE '' END,
  CASE WHEN x.r3 > 0.95 AND x.st IN ('dispatched','signed','handled','checked','closed')
       THEN 1 ELSE 0 END,
  CASE WHEN x.r2 > 0.96 AND x.st IN ('handled','checked','closed') THEN 1 ELSE 0 END,
  0, 0, 0, NULL, NULL,
  CASE WHEN x.st NOT IN ('reported','verified','answered','rejected','merged') THEN c.dept_id END,
  CASE WHEN x.st NOT IN ('reported','verified','answered','rejected','merged') THEN x.r5 END,
  NULL, NULL
FROM (
  SELECT s.*,
    CASE
      WHEN now() - s.created > interval '20 days' THEN
        CASE WHEN s.r1 < 0.002 THEN 'signed' WHEN s.r1 < 0.003 THEN 'checked'
             WHEN s.r1 < 0.06 THEN 'answered' WHEN s.r1 < 0.085 THEN 'rejected'
             WHEN s.r1 < 0.1 THEN 'merged' ELSE 'closed' END
      WHEN now() - s.created < interval '1 day' THEN
        (ARRAY['reported','verified','registered','registered','dispatched','dispatched',
               'signed','signed','answered','closed'])[1 + floor(s.r1 * 10)::int]
      WHEN now() - s.created < interval '7 days' THEN
        (ARRAY['dispatched','signed','signed','signed','handled','checked','closed','closed',
               'answered','rejected'])[1 + floor(s.r1 * 10)::int]
      ELSE (ARRAY['signed','handled','checked','closed','closed','closed','closed','closed',
                  'answered','closed'])[1 + floor(s.r1 * 10)::int]
    END AS st
  FROM (
    SELECT g, now() - %(span)s * ((%(tickets)s - g)::float / %(tickets)s) AS created,
      floor(%(categories)s * power(random(), 1.7))::int AS cat_idx,
      random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
      random() AS r6
    FROM generate_series(1, %(tickets)s) g
  ) s
) x
JOIN bench_cat c ON c.idx = x.cat_idx
JOIN bench_text t ON t.idx = c.text_from + x.g %% c.text_count
ORDER BY x.g
"""

EVENTS_SQL = """
INSERT INTO hotline_ticketevent (ticket_id, at, action, from_status, to_status, note,
  department_id, actor_id, seconds)
SELECT t.id, e.at, e.action, e.from_s, e.to_s, '', e.dept, NULL, NULL
FROM hotline_ticket t
CROSS JOIN LATERAL (VALUES
  ('report', t.created_at, '', 'reported', NULL::bigint),
  ('register', t.registered_at, 'reported', 'registered', NULL),
  ('dispatch', t.dispatched_at, 'registered', 'dispatched', t.lead_department_id),
  ('object', CASE WHEN t.objections > 0 THEN t.dispatched_at + interval '30 minutes' END,
   'dispatched', 'registered', t.lead_department_id),
  ('sign', t.signed_at, 'dispatched', 'signed', t.lead_department_id),
  ('handle', t.handled_at, 'signed', 'handled', t.lead_department_id),
  ('check', t.checked_at, 'handled', 'checked', NULL),
  ('follow_up', t.followed_up_at, 'checked', 'checked', NULL),
  ('close', CASE WHEN t.status = 'closed' THEN t.closed_at END, 'checked', 'closed',
   t.lead_department_id),
  ('answer', CASE WHEN t.status = 'answered' THEN t.closed_at END, 'reported', 'answered', NULL),
  ('reject', CASE WHEN t.status = 'rejected' THEN t.closed_at END, 'reported', 'rejected', NULL),
  ('merge', CASE WHEN t.status = 'merged' THEN t.closed_at END, 'reported', 'merged', NULL)
) e(action, at, from_s, to_s, dept)
WHERE t.id >= %(first)s AND e.at IS NOT NULL
"""

CALLS_SQL = """
INSERT INTO hotline_call (call_id, line, caller_phone, caller_phone_index, started_at,
  answered_at, ended_at, agent_id, ticket_id)
SELECT 'bench-' || g, CASE WHEN g %% 20 = 0 THEN 'company' ELSE 'citizen' END, '', '',
  s.at, CASE WHEN random() < 0.95 THEN s.at + interval '15 seconds' END,
  s.at + interval '4 minutes', NULL, NULL
FROM (SELECT g, now() - %(span)s * ((%(calls)s - g)::float / %(calls)s) AS at
      FROM generate_series(1, %(calls)s) g) s
"""


def secondary_indexes(cur, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    return cur.fetchall()


@contextlib.contextmanager
def without_indexes(cur, tables: tuple[str, ...]):
    """Bulk loading: build the secondary indexes once afterwards instead of row by row
    (several times faster); the same definitions come back, so the planner sees what it
    would see on a live database."""
    dropped = [row for table in tables for row in secondary_indexes(cur, table)]
    for name, _definition in dropped:
        cur.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _name, definition in dropped:
            cur.execute(definition)


@contextlib.contextmanager
def unsynced(server_url: str | None):
    """fsync off while the demo city and the generated tickets go in (a throwaway cluster
    only), and on again, with a checkpoint, before anything is measured."""
    if not server_url:
        yield
        return
    import psycopg

    def configure(*statements: str) -> None:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    configure(
        "ALTER SYSTEM SET fsync = off",
        "ALTER SYSTEM SET synchronous_commit = off",
        "SELECT pg_reload_conf()",
    )
    try:
        yield
    finally:
        configure(
            "ALTER SYSTEM RESET fsync",
            "ALTER SYSTEM RESET synchronous_commit",
            "SELECT pg_reload_conf()",
            "CHECKPOINT",
        )


class ScaleData:
    """The demo city's tree and departments with `--tickets` tickets over `--months` months."""

    def __init__(self, args, pool: list[dict]) -> None:
        from django.db import connection

        from yiwang.crypto.fields import encrypt_text

        started = time.monotonic()
        by_category: dict[int, list[dict]] = {}
        for row in pool:
            by_category.setdefault(row["category"], []).append(row)
        # Busiest first: the demo's order puts city management (城管) and the like up front.
        order = sorted(by_category, key=lambda pk: by_category[pk][0]["code"])
        text_rows, cat_rows = [], []
        for idx, pk in enumerate(order):
            rows = by_category[pk]
            cat_rows.append((idx, pk, rows[0]["department"], len(text_rows), len(rows)))
            for r in rows:
                text_rows.append(
                    (
                        len(text_rows),
                        r["text"],
                        r["address"],
                        r["lat"],
                        r["lng"],
                        r["area"],
                        r["kind"],
                    )
                )
        span = dt.timedelta(days=round(args.months * 30.44))
        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) + 1 FROM hotline_ticket")
            first = cur.fetchone()[0]
            cur.execute(
                "CREATE TEMP TABLE bench_cat (idx int, cat_id bigint, dept_id bigint,"
                " text_from int, text_count int)"
            )
            cur.executemany("INSERT INTO bench_cat VALUES (%s, %s, %s, %s, %s)", cat_rows)
            cur.execute(
                "CREATE TEMP TABLE bench_text (idx int, body text, address text, lat numeric,"
                " lng numeric, area_id bigint, kind text)"
            )
            cur.executemany("INSERT INTO bench_text VALUES (%s, %s, %s, %s, %s, %s, %s)", text_rows)
            params = {
                "tickets": args.tickets,
                "calls": round(args.tickets * 1.2),
                "categories": len(cat_rows),
                "span": span,
                "phone": encrypt_text("13900001234"),
                "first": first,
            }
            self.timings = {}
            self.rows = {}
            with without_indexes(cur, ("hotline_ticket", "hotline_ticketevent", "hotline_call")):
                for label, sql in (
                    ("tickets", TICKETS_SQL),
                    ("events", EVENTS_SQL),
                    ("calls", CALLS_SQL),
                ):
                    t0 = time.monotonic()
                    cur.execute(sql, params)
                    self.timings[label] = time.monotonic() - t0
                    self.rows[label] = cur.rowcount
                    log(f"   {label:<8} {cur.rowcount:>10,} rows in {self.timings[label]:.0f} s")
                # 重复诉求: one in twenty points at an earlier ticket (metrics count them).
                cur.execute(
                    "UPDATE hotline_ticket SET repeat_of_id = id - 997"
                    " WHERE id >= %(first)s + 997 AND id %% 20 = 0",
                    params,
                )
                t0 = time.monotonic()
            self.timings["indexes"] = time.monotonic() - t0
            log(f"   secondary indexes built in {self.timings['indexes']:.0f} s")
            self.tickets, self.events = self.rows["tickets"], self.rows["events"]
            t0 = time.monotonic()
            cur.execute("VACUUM ANALYZE hotline_ticket")
            cur.execute("VACUUM ANALYZE hotline_ticketevent")
            cur.execute("VACUUM ANALYZE hotline_call")
            self.timings["vacuum analyze"] = time.monotonic() - t0
        self.statuses = _status_counts()
        self.seconds = time.monotonic() - started
        log(
            f"   VACUUM ANALYZE {self.timings['vacuum analyze']:.0f} s;"
            f" data ready in {self.seconds:.0f} s"
        )
        log(f"   tickets by status: {self.statuses}")


def _status_counts() -> dict[str, int]:
    from django.db.models import Count

    from yiwang.hotline.models import Ticket

    rows = Ticket.objects.order_by().values("status").annotate(n=Count("pk"))
    return {r["status"]: r["n"] for r in sorted(rows, key=lambda r: -r["n"])}


def _filters(params: dict):
    from yiwang.hotline.selectors import TicketFilters

    return TicketFilters(
        queue=params.get("queue", ""),
        colour=params.get("colour", ""),
        query=params.get("q", ""),
        category=params.get("category"),
        kind=params.get("kind", ""),
    )


def department_inbox(department_id: int, params: dict) -> int:
    """What the inbox API reads for a department: the first page, its total, queue counts."""
    from yiwang.hotline import selectors
    from yiwang.hotline.models import Ticket

    tickets = selectors.department_tickets(department_id, _filters(params))
    page = list(tickets[:PAGE])
    tickets.count()
    selectors.queue_counts(
        Ticket.objects.filter(lead_department_id=department_id), selectors.DEPARTMENT_QUEUES
    )
    selectors.pending_postponements(department_id).count()
    return len(page)


def centre_inbox(params: dict) -> int:
    from yiwang.hotline import selectors
    from yiwang.hotline.models import Ticket

    tickets = selectors.centre_tickets(_filters(params))
    page = list(tickets[:PAGE])
    tickets.count()
    selectors.queue_counts(Ticket.objects.all(), selectors.CENTRE_QUEUES)
    selectors.pending_postponements(None).count()
    return len(page)


def inbox_scenarios(department_id: int) -> list[tuple[str, dict]]:
    """(label, query parameters of GET /api/v1/hotline/inbox/): what a department asks most."""
    from django.db.models import Count
    from django.utils import timezone

    from yiwang.hotline.models import Ticket
    from yiwang.hotline.selectors import DEPARTMENT_QUEUES

    open_statuses = [s for queue in DEPARTMENT_QUEUES.values() for s in queue]
    top = (
        Ticket.objects.filter(lead_department_id=department_id, status__in=open_statuses)
        .order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    today = timezone.localdate()
    rows = [
        ("all open", {}),
        ("to sign (queue=sign)", {"queue": "sign"}),
        ("in hand (queue=handle)", {"queue": "handle"}),
        ("red (overdue)", {"colour": "red"}),
        ("yellow", {"colour": "yellow"}),
        ("complaints (kind)", {"kind": "complaint"}),
        ("number prefix (this month)", {"q": f"{today:%Y%m}"}),
        ("words (q=小区)", {"q": "小区"}),
    ]
    if top:
        rows.insert(6, ("one category", {"category": top["category_id"]}))
    return rows


CENTRE_SCENARIOS = [
    ("centre, all its queues", {}),
    ("centre, to dispatch", {"queue": "dispatch"}),
    ("centre, red", {"colour": "red"}),
    ("centre, words (q=路灯)", {"q": "路灯"}),
]


def sample(fn, rounds: int, warm: int = 2) -> list[float]:
    out = []
    for _ in range(rounds + warm):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out[warm:]


def http_sampler(server: DemoServer, token: str):
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def get(path: str) -> dict:
        status, body = get_json(server.base_url, path, token, conn)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {json.dumps(body)[:500]}")
        return body

    return conn, get


def bench_department_staff(departments: list[int]) -> dict[int, str]:
    """An intake clerk of each department, with a token (the inbox is per role holder)."""
    from django.db import transaction
    from django.test.utils import override_settings

    from yiwang.identity.models import Department
    from yiwang.identity.services import issue_api_token
    from yiwang.identity.tests.factories import StaffFactory

    tokens = {}
    with override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        for n, pk in enumerate(departments):
            user = StaffFactory(
                department=Department.objects.get(pk=pk),
                roles=["intake"],
                username=f"hlbench_staff{pk}",
                phone=f"1960000{n:04d}",
            )
            tokens[pk] = issue_api_token(user)
    return tokens


def slowest_sql(fn, label: str, explain: bool, top: int = 2) -> dict:
    """The statements `fn` runs, slowest first; EXPLAIN (ANALYZE, BUFFERS) of the `top` ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    out = []
    log(
        f"   SQL of {label}: {len(queries)} statements,"
        f" {sum(float(q['time']) for q in queries) * 1000:.1f} ms in all"
    )
    for q in queries[:top]:
        row = {"ms": float(q["time"]) * 1000, "sql": q["sql"]}
        log(f"      {row['ms']:7.1f} ms  {q['sql'][:300]}")
        if explain and q["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                row["plan"] = "\n".join(r[0] for r in cur.fetchall())
            for plan_line in row["plan"].splitlines()[:14]:
                log("         " + plan_line)
        out.append(row)
    return {
        "statements": len(queries),
        "ms": sum(float(q["time"]) for q in queries) * 1000,
        "slowest": out,
    }


# Where a request's time goes: (file suffix, function) whose cumulative time is reported.
PROFILE_AREAS = {
    "SQL round trips (driver)": ("django/db/backends/utils.py", "_execute"),
    "SQL compilation (ORM)": ("django/db/models/sql/compiler.py", "as_sql"),
    "model instances (from_db)": ("django/db/models/base.py", "from_db"),
    "serializers (to_representation)": ("rest_framework/serializers.py", "to_representation"),
    "JSON rendering": ("rest_framework/renderers.py", "render"),
    "token authentication": ("rest_framework/authentication.py", "authenticate"),
    "hotline_centre() lookups": ("yiwang/hotline/services.py", "hotline_centre"),
    "metrics.trend": ("yiwang/hotline/metrics.py", "trend"),
    "metrics.ranking": ("yiwang/hotline/metrics.py", "ranking"),
}


def profile(fn, rounds: int, label: str) -> dict:
    """cProfile of `fn`: time per call, the areas above, and the functions of most own time."""
    fn()  # first calls compile and import what later ones reuse
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    per_call = stats.total_tt / rounds * 1000
    areas = {}
    for area, (suffix, func) in PROFILE_AREAS.items():
        cumulative = max(
            (
                ct
                for (f, _l, name), (_cc, _nc, _tt, ct, _c) in stats.stats.items()
                if name == func and f.endswith(suffix)
            ),
            default=0.0,
        )
        if cumulative:
            areas[area] = cumulative / rounds * 1000
    log(f"   profile of {label}: {per_call:.1f} ms per call under cProfile (which inflates it)")
    for area, ms in sorted(areas.items(), key=lambda kv: -kv[1]):
        log(f"      {area:<34} {ms:7.1f} ms  {ms / per_call:5.1%}")
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(8)
    rows = [r.strip() for r in out.getvalue().splitlines() if r.strip()[:1].isdigit()][:8]
    log("      own time, top functions: ncalls tottime percall cumtime percall")
    for row in rows:
        log("      " + row[:150])
    return {"label": label, "per_call_ms": per_call, "areas_ms": areas, "top_own_time": rows}


@dataclass
class InboxCase:
    who: str
    department: int | None  # None: the 12345 centre
    label: str
    params: dict
    token: str

    @property
    def path(self) -> str:
        side = (
            {"side": "centre"}
            if self.department is None
            else {"side": "department", "department": self.department}
        )
        return "/api/v1/hotline/inbox/?" + urlencode({**side, **self.params})

    def local(self) -> int:
        if self.department is None:
            return centre_inbox(self.params)
        return department_inbox(self.department, self.params)


def measure_inboxes(server: DemoServer, args, cases: list[InboxCase]) -> tuple[list, dict]:
    """Every scenario, and sequential `GET /healthz`, sampled round by round rather than one
    after the other: a burst of load from elsewhere on the machine then spreads over all of
    them instead of spoiling one scenario's p95."""
    getters = {}
    conns = []
    for token in {c.token for c in cases}:
        conn, get = http_sampler(server, token)
        getters[token] = get
        conns.append(conn)
    health_conn, _get = http_sampler(server, cases[0].token)
    conns.append(health_conn)
    local = [[] for _ in cases]
    remote = [[] for _ in cases]
    health = []
    answers: list[dict] = [{} for _ in cases]
    try:
        for _ in range(args.rounds + 2):
            t0 = time.perf_counter()
            get_json(server.base_url, "/healthz", None, health_conn)
            health.append((time.perf_counter() - t0) * 1000)
            for i, case in enumerate(cases):
                t0 = time.perf_counter()
                case.local()
                local[i].append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                answers[i] = getters[case.token](case.path)
                remote[i].append((time.perf_counter() - t0) * 1000)
    finally:
        for conn in conns:
            conn.close()
    health = health[2:]
    base_p95 = percentile(health, 95)
    log(
        f"   GET /healthz, sequential on one connection, in the same rounds: p50"
        f" {statistics.median(health):.2f} ms, p95 {base_p95:.2f} ms"
    )
    rows = []
    current = None
    for i, case in enumerate(cases):
        if case.who != current:
            current = case.who
            log(f"   inbox of {case.who}:")
        row = {
            "who": case.who,
            "department": case.department,
            "scenario": case.label,
            "params": case.params,
            "rows": len(answers[i].get("results", [])),
            "total": answers[i].get("count"),
            "inprocess": timed(local[i][2:]),
            "http": timed(remote[i][2:]),
        }
        row["http_p95_vs_healthz"] = row["http"]["p95_ms"] / base_p95
        rows.append(row)
        log(
            f"      {case.label:<28} {row['rows']:>2}/{row['total'] or 0:<6} in-process p50"
            f" {row['inprocess']['p50_ms']:6.1f} p95 {row['inprocess']['p95_ms']:6.1f} ms"
            f"   HTTP p50 {row['http']['p50_ms']:6.1f} p95 {row['http']['p95_ms']:6.1f} ms"
            f" ({row['http_p95_vs_healthz']:.0f}x healthz)"
        )
    return rows, timed(health)


def measure_metrics(server: DemoServer, args, big, token: str, use_pg: bool) -> dict:
    """The month's figures in-process (nothing cached, and finished months cached), then
    over HTTP month by month, so the API's one-minute cache never answers for it."""
    from django.core.cache import cache
    from django.utils import timezone

    from yiwang.hotline import metrics

    today = timezone.localdate()
    last_month_day = today.replace(day=1) - dt.timedelta(days=1)
    month = metrics.Period.month(last_month_day.year, last_month_day.month)
    log(
        f"   monthly figures of {month.value} (city: {metrics.cohort(month).count():,} tickets;"
        f" {big.name}: {metrics.cohort(month, big.pk).count():,}), {args.metrics_rounds}"
        " rounds each:"
    )
    cases = {
        "figures(), city": lambda: metrics.figures(month),
        "figures(), department": lambda: metrics.figures(month, big.pk),
        "dashboard, city, nothing cached": lambda: metrics.staff_figures(month),
        "dashboard, department, nothing cached": lambda: metrics.staff_figures(month, big),
        "dashboard, city, past months cached": lambda: metrics.staff_figures(
            month, cache_past=True
        ),
        "dashboard, department, past months cached": lambda: metrics.staff_figures(
            month, big, cache_past=True
        ),
        "public statistics, past months cached": lambda: metrics.public_figures(
            month, cache_past=True
        ),
    }
    cache.clear()
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.metrics_rounds + 1):
        for label, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            samples[label].append((time.perf_counter() - t0) * 1000)
    local_rows = []
    for label, values in samples.items():
        row = {"label": label, "inprocess": timed(values[1:])}
        local_rows.append(row)
        log(
            f"      in-process {label:<42} p50 {row['inprocess']['p50_ms']:6.1f}"
            f" p95 {row['inprocess']['p95_ms']:6.1f} ms"
        )

    months = []
    day = today
    for _ in range(min(args.http_months, args.months)):
        months.append(f"{day:%Y-%m}")
        day = day.replace(day=1) - dt.timedelta(days=1)
    conn, get = http_sampler(server, token)
    remote: dict[str, list[float]] = {"city": [], "department": []}
    try:
        for value in months:
            for scope, extra in (("city", {}), ("department", {"department": big.pk})):
                t0 = time.perf_counter()
                get("/api/v1/hotline/metrics/?" + urlencode({"month": value, **extra}))
                remote[scope].append((time.perf_counter() - t0) * 1000)
    finally:
        conn.close()
    http_rows = []
    for scope, values in remote.items():
        row = {"scope": scope, "months": len(values), "http": timed(values), "first_ms": values[0]}
        http_rows.append(row)
        log(
            f"      HTTP GET /api/v1/hotline/metrics/ {scope:<10} {len(values)} months,"
            f" first {values[0]:6.1f} ms, p50 {row['http']['p50_ms']:6.1f}"
            f" p95 {row['http']['p95_ms']:6.1f} ms"
        )
    cache.clear()
    sql = slowest_sql(
        lambda: metrics.staff_figures(month), "the city dashboard, nothing cached", use_pg, top=3
    )
    cache.clear()
    return {
        "month": month.value,
        "department": {"id": big.pk, "name": big.name},
        "inprocess": local_rows,
        "http": http_rows,
        "sql": sql,
        "profile": profile(
            lambda: metrics.staff_figures(month), 5, "the city dashboard, nothing cached"
        ),
    }


def part_scale(server: DemoServer, args, data: ScaleData, use_pg: bool) -> dict:
    from django.db.models import Count
    from django.test import Client

    from yiwang.hotline.models import Ticket
    from yiwang.hotline.selectors import DEPARTMENT_QUEUES
    from yiwang.identity.models import Department

    open_statuses = [s for queue in DEPARTMENT_QUEUES.values() for s in queue]
    sizes = list(
        Ticket.objects.filter(status__in=open_statuses, lead_department__isnull=False)
        .order_by()
        .values_list("lead_department_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    picked = [sizes[0], sizes[len(sizes) // 2], sizes[-1]]
    names = dict(Department.objects.filter(pk__in=[p for p, _ in picked]).values_list("pk", "name"))
    tokens = bench_department_staff([pk for pk, _n in picked])
    _op, operator_token = staff_token(DEMO_CENTRE_STAFF["operator"])
    _disp, dispatcher_token = staff_token(DEMO_CENTRE_STAFF["dispatcher"])
    cases = [
        InboxCase(f"{names[pk]} ({n:,} open)", pk, label, params, tokens[pk])
        for pk, n in picked
        for label, params in inbox_scenarios(pk)
    ] + [
        InboxCase("12345 centre", None, label, params, operator_token)
        for label, params in CENTRE_SCENARIOS
    ]
    rows, health = measure_inboxes(server, args, cases)
    worst_i = max(range(len(rows)), key=lambda i: rows[i]["http"]["p95_ms"])
    worst = cases[worst_i]
    client = Client(HTTP_HOST="127.0.0.1")
    result: dict = {
        "tickets": data.tickets,
        "events": data.events,
        "months": args.months,
        "statuses": data.statuses,
        "generation_seconds": data.seconds,
        "generation": data.timings,
        "baseline_healthz_sequential": health,
        "inbox": rows,
        "inbox_worst_http_p95_ms": rows[worst_i]["http"]["p95_ms"],
        "inbox_worst_inprocess_p95_ms": max(r["inprocess"]["p95_ms"] for r in rows),
        "inbox_sql": slowest_sql(
            worst.local, f"the slowest inbox ({worst.who}, {worst.label})", use_pg
        ),
        "inbox_profile": profile(
            lambda: client.get(worst.path, headers={"Authorization": f"Token {worst.token}"}),
            20,
            f"GET {worst.path} (test client)",
        ),
    }
    big = Department.objects.get(pk=picked[0][0])
    result["metrics"] = measure_metrics(server, args, big, dispatcher_token, use_pg)
    return result


# ---------------------------------------------------------------- 4. routing


def part_routing(args) -> dict:
    from yiwang.hotline import routing, routing_train
    from yiwang.hotline.models import RoutingModel

    # load_demo trains the model on its history (`routing_train.train_and_store`, the same
    # evaluation `manage.py train_routing` prints); its report holds the held-out figures.
    model = RoutingModel.objects.filter(is_active=True).order_by("-created_at", "-id").first()
    if model is None:
        model = routing_train.train_and_store()
    report = model.report
    split = report["split"]
    result = {
        "model": model.pk,
        "algorithm": report["algorithm"],
        "train": split["train"],
        "test": split["test"],
        "test_closed": split["test_closed"],
        "top1": report["top1"],
        "top3": report["top3"],
        "recommended_threshold": report["recommended_threshold"],
        "thresholds": report["thresholds"],
        "departments": len(report["departments"]),
        "training_seconds": report.get("seconds"),
    }
    log(
        f"   model #{model.pk} ({report['algorithm']}): trained on {split['train']:,},"
        f" held out the newest {split['test']:,} closed tickets"
        f" (closed {split['test_closed'][0]} to {split['test_closed'][1]}),"
        f" {len(report['departments'])} departments"
    )
    log(
        f"   top-1 {report['top1']:.1%}   top-3 {report['top3']:.1%}   recommended auto-dispatch"
        f" threshold {report['recommended_threshold']}; training took {report.get('seconds')}"
    )
    for t in report["thresholds"]:
        precision = "—" if t["precision"] is None else f"{t['precision']:.1%}"
        log(
            f"      confidence >= {t['threshold']:.2f}: {t['share']:6.1%} of tickets,"
            f" top-1 {precision}"
        )

    samples = routing_train.closed_samples()
    texts = [s.text for s in samples[len(samples) - split["test"] :]][: args.suggest_calls]
    routing.forget()
    t0 = time.perf_counter()
    routing.suggest(texts[0])
    result["first_suggest_ms"] = (time.perf_counter() - t0) * 1000
    per_call = []
    started = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        routing.suggest(text, 3)
        per_call.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        routing.words(text)
    jieba_ms = (time.perf_counter() - started) * 1000 / len(texts)
    result["suggest"] = timed(per_call) | {
        "calls": len(texts),
        "per_second": len(texts) / total,
        "mean_ms": total * 1000 / len(texts),
        "jieba_ms": jieba_ms,
        "mean_chars": statistics.mean(len(t) for t in texts),
    }
    s = result["suggest"]
    log(
        f"   routing.suggest(): {s['per_second']:,.0f} suggestions/s in-process (one core);"
        f" mean {s['mean_ms']:.2f} ms, p50 {s['p50_ms']:.2f}, p95 {s['p95_ms']:.2f} ms per call"
        f" ({s['mean_chars']:.0f} characters on average; jieba words {jieba_ms:.2f} ms of it);"
        f" the first call (jieba's dictionary, the model) {result['first_suggest_ms']:.0f} ms"
    )
    return result


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run every part on PostgreSQL")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--citizens", type=int, default=200, help="citizens posting tickets")
    parser.add_argument("--texts-per-category", type=int, default=40)
    parser.add_argument(
        "--dispatch-tickets",
        type=int,
        default=0,
        help="registered tickets made for dispatch (default: twice what the intake rate needs)",
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets for the scale part")
    parser.add_argument("--months", type=int, default=36, help="months the scale tickets span")
    parser.add_argument("--rounds", type=int, default=30, help="samples per inbox scenario")
    parser.add_argument(
        "--metrics-rounds", type=int, default=15, help="samples per in-process figure"
    )
    parser.add_argument(
        "--http-months", type=int, default=24, help="months asked over HTTP per scope"
    )
    parser.add_argument("--suggest-calls", type=int, default=2000)
    parser.add_argument(
        "--no-intake-at-scale",
        dest="intake_at_scale",
        action="store_false",
        help="by default the PostgreSQL run measures intake again, with the 1M tickets in place",
    )
    parser.add_argument("--pg-fsync-off", action="store_true", help="fsync=off (CI-style)")
    parser.add_argument("--keep", action="store_true", help="keep the var dir and database")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}: choose from {', '.join(PARTS)}")

    given_url = os.environ.get("DATABASE_URL", "")
    use_pg = args.postgres or bool(given_url)
    pg_available = bool(given_url) or (PGBIN / "initdb").exists()
    if "scale" in parts and not pg_available:
        log(
            "== scale (1M tickets): SKIPPED: needs PostgreSQL (set DATABASE_URL or install"
            " postgresql-15 so /usr/lib/postgresql/15/bin exists); SQLite is not measured at"
            " that size"
        )
        parts.discard("scale")
    if use_pg and not pg_available:
        raise SystemExit("--postgres needs DATABASE_URL or /usr/lib/postgresql/15/bin")
    if "scale" in parts and not use_pg:
        # One database per process: SQLite as `make run` has it, then PostgreSQL for the scale.
        log("== SQLite first, then the 1M-ticket parts on PostgreSQL")
        started = time.monotonic()
        if parts - {"scale"}:
            run_child(args, parts - {"scale"}, postgres=False)
        sqlite_s = time.monotonic() - started
        at_scale = {"scale"} | ({"intake"} & parts if args.intake_at_scale else set())
        run_child(args, at_scale, postgres=True)
        log(
            f"== both runs took {time.monotonic() - started:.0f} s"
            f" (SQLite {sqlite_s:.0f} s, PostgreSQL {time.monotonic() - started - sqlite_s:.0f} s)"
        )
        return
    run(args, parts, use_pg, given_url)


def run_child(args, parts: set[str], *, postgres: bool) -> None:
    """The same script in a fresh process (Django configures one database per process)."""
    argv = [sys.executable, __file__, "--parts", ",".join(p for p in PARTS if p in parts)]
    flags = ("parts", "postgres", "keep", "pg_fsync_off", "intake_at_scale")
    for name, value in vars(args).items():
        if name not in flags:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    argv += ["--postgres"] if postgres else []
    argv += ["--keep"] if args.keep else []
    argv += ["--pg-fsync-off"] if args.pg_fsync_off else []
    env = dict(os.environ)
    if not postgres:
        env.pop("DATABASE_URL", None)
    subprocess.run(argv, check=True, env=env)  # noqa: S603


def inbox_goals(rows: list[dict]) -> list[str]:
    """The issue's goal is the department inbox; the centre's queues are held to it too."""
    out = []
    for label, mine in (
        ("department inbox", [r for r in rows if r["department"] is not None]),
        ("12345 centre inbox", [r for r in rows if r["department"] is None]),
    ):
        worst = max(mine, key=lambda r: r["http"]["p95_ms"])
        out.append(
            goal(
                f"{label} p95 < {GOAL_INBOX_P95_MS:.0f} ms over HTTP, every scenario",
                worst["http"]["p95_ms"] < GOAL_INBOX_P95_MS,
                f"worst {worst['http']['p95_ms']:.1f} ms ({worst['scenario']}, {worst['who']});"
                f" in-process worst {max(r['inprocess']['p95_ms'] for r in mine):.1f} ms",
            )
        )
    return out


LOADS: dict[str, float] = {}


@contextlib.contextmanager
def took(timings: dict, label: str):
    """The part's duration, and the machine's one-minute load average when it ended (other
    work on the machine shows there, and in every figure measured meanwhile)."""
    started = time.monotonic()
    try:
        yield
    finally:
        timings[label] = time.monotonic() - started
        LOADS[label] = os.getloadavg()[0]


def run(args, parts: set[str], use_pg: bool, given_url: str) -> None:
    http_parts = parts & {"intake", "dispatch"}
    wrk_bin = ensure_wrk() if http_parts else ""
    cluster = None
    db_url = ""
    db_name = f"yiwang_bench_hotline_{os.getpid()}"
    if use_pg:
        if given_url:
            server_url = given_url
            db_label = "PostgreSQL (DATABASE_URL's server, scratch database)"
        else:
            cluster = ThrowawayPostgres(fsync=not args.pg_fsync_off)
            server_url = cluster.start()
            db_label = "PostgreSQL 15, throwaway cluster" + (
                " (fsync off)" if args.pg_fsync_off else " (fsync on)"
            )
        db_url = scratch_database(server_url, db_name)
    else:
        db_label = "SQLite (WAL)"

    server = DemoServer(workers=2, prefix="yiwang-bench-hotline-")
    threads = serve_blocking_threads()
    server.env["GRANIAN_BLOCKING_THREADS"] = threads
    # The Open311 per-key limit (60 a minute) would turn the run into 429s.
    server.env["YIWANG_OPEN311_RATE_PER_MINUTE"] = str(10**7)
    if db_url:
        server.env["DATABASE_URL"] = db_url
    timings: dict[str, float] = {}
    results: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_at_start": os.getloadavg(),
        },
        "settings": vars(args)
        | {
            "parts": sorted(parts),
            "server": f"granian wsgi, 2 workers, {threads} blocking threads each",
            "database": db_label,
        },
        "seconds": timings,
    }
    ordered = [p for p in PARTS if p in parts]
    log(f"== hotline bench on {db_label}: {', '.join(ordered)}")
    started = time.monotonic()
    try:
        goals = []
        data = None
        with unsynced(server_url if cluster else None):
            with took(timings, "prepare (migrate, load_demo)"):
                server.manage("migrate", "--noinput", "-v0", timeout=1800)
                # The demo's 20,000 closed tickets are what routing learns from; without
                # the routing part they would only make the prepare step slower.
                history = [] if "routing" in parts else ["--tickets", "0"]
                server.manage("load_demo", "--cases", "0", *history, timeout=1800)
                setup_django(server)
                pool = report_pool(args.texts_per_category)
            log(
                f"   demo city loaded in {timings['prepare (migrate, load_demo)']:.0f}"
                f" s; {len(pool)} report texts over {len({r['category'] for r in pool})}"
                " categories"
            )
            if "routing" in parts:
                log("== 4. routing: held-out accuracy and suggest() in-process")
                with took(timings, "routing"):
                    results["routing"] = part_routing(args)
            if "scale" in parts:
                log(f"== 3. scale: generating {args.tickets:,} tickets over {args.months} months")
                with took(timings, "scale: generate data"):
                    data = ScaleData(args, pool)
        server.start(worker=False)
        log(f"   server {server.base_url}")
        baseline = None
        if http_parts:
            wrk_run(wrk_bin, server.base_url, healthz_lua(), args, 2)
            baseline = wrk_run(wrk_bin, server.base_url, healthz_lua(), args, args.seconds)
            results["baseline_healthz"] = baseline
            log(line("GET /healthz", baseline))
        if "intake" in parts:
            log("== 1. ticket intake over HTTP (wrk)")
            with took(timings, "intake"):
                intake = results["intake"] = part_intake(server, args, wrk_bin, baseline, pool)
            for key in ("web", "open311"):
                r = intake[key]
                goals.append(
                    goal(
                        f"intake {key}: no non-2xx answers or socket errors",
                        r["error_count"] == 0,
                        json.dumps(r["errors"]),
                    )
                )
        if "dispatch" in parts:
            log("== 2. dispatch throughput (wrk)")
            with took(timings, "dispatch"):
                count = dispatch_count(args, results.get("intake"))
                disp = results["dispatch"] = part_dispatch(
                    server, args, wrk_bin, baseline, pool, count
                )
            goals.append(
                goal(
                    "dispatch: no non-2xx answers, enough tickets",
                    disp["error_count"] == 0 and not disp["ran_out"],
                    json.dumps(disp["errors"]),
                )
            )
        if data is not None:
            log(f"== 3. scale: inboxes and monthly figures with {data.tickets:,} tickets")
            with took(timings, "scale: measure"):
                scale = results["scale"] = part_scale(server, args, data, use_pg)
            goals += inbox_goals(scale["inbox"])
            for row in scale["metrics"]["http"]:
                goals.append(
                    goal(
                        f"monthly metrics p95 < {GOAL_METRICS_P95_MS:.0f} ms over HTTP,"
                        f" {row['scope']}",
                        row["http"]["p95_ms"] < GOAL_METRICS_P95_MS,
                        f"{row['http']['p95_ms']:.1f} ms over {row['months']} months",
                    )
                )
        results["goals"] = goals
        log("== goals")
        for text in goals:
            log(f"   {text}")
    finally:
        timings["total"] = time.monotonic() - started
        if "django" in sys.modules and getattr(sys.modules["django"], "apps", None):
            from django.db import connections

            connections.close_all()
        server.stop()
        if args.keep:
            log(f"kept {server.var_dir}" + (f" and database {db_url}" if db_url else ""))
        else:
            server.remove()
            if db_url and given_url:
                scratch_database(given_url, db_name, drop=True)
        if cluster and not args.keep:
            cluster.stop()
    results["load_average_after"] = LOADS
    log("== time per part (and the one-minute load average at its end, on 2 cores)")
    for label, seconds in timings.items():
        load = f"   load {LOADS[label]:.1f}" if label in LOADS else ""
        log(f"   {label:<40} {seconds:6.0f} s{load}")
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = "pg" if use_pg else "sqlite"
    for name in (f"hotline-{suffix}-{stamp}.json", f"hotline-{suffix}-latest.json"):
        (RESULTS / name).write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    log(f"results: bench/results/hotline-{suffix}-{stamp}.json")


if __name__ == "__main__":
    main()
