"""Licence benchmarks (issue 4, "Measure"), each as a ratio to raw signatures of the same suite.

    .venv/bin/python bench/licenses.py                 # SQLite, both suites
    .venv/bin/python bench/licenses.py --seconds 5     # shorter wrk runs

1. verify: wrk POSTs `/api/v1/licenses/verify` (a QR payload with two disclosures, rotating
   over many licences) against the real server (granian, 2 workers); the ratio is to raw
   signature verifications per second of the same suite, one core, in this process.
   Goal: ≥ 0.3.
2. issue: licences issued in-process through `licenses.services.issue` (sign + store) plus the
   QR code of its verify URL, per second, against raw signatures per second of the same suite.

docs/benchmarks.md ("Licences") explains the figures. Goals are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from cases import setup_django, wrk_run  # noqa: E402
from run import RESULTS, ensure_wrk, goal, log, serve_blocking_threads  # noqa: E402
from server import DemoServer  # noqa: E402

GOAL_RATIO = 0.3
SUITES = ("SM2-SM3", "Ed25519")

VERIFY_LUA = """
dofile({report})
request = function()
  counter = (counter or 0) + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", "/api/v1/licenses/verify",
    {{["Content-Type"] = "application/json"}}, body)
end
"""


def raw_rate(suite: str, seconds: float, sign: bool) -> float:
    """Raw signatures (or verifications) per second on one core: the physical limit."""
    from yiwang.crypto import signing

    private = signing.generate_private_key(suite)
    public = signing.public_key_of(suite, private)
    data = b"x" * 600
    signature = signing.sign(suite, private, data)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(50):
            if sign:
                signing.sign(suite, private, data)
            else:
                assert signing.verify(suite, public, data, signature)
        count += 50
    return count / (time.perf_counter() - started)


def fixture(suite: str, licences: int):
    """A sealed department of `suite`, a licence type, holders and their licences."""
    from django.db import transaction
    from django.utils import timezone

    from yiwang.identity.models import Department, User
    from yiwang.identity.validators import credit_check_char, id_check_char
    from yiwang.licenses import services
    from yiwang.licenses.models import LicenseType
    from yiwang.seals import services as seal_services

    admin = User.objects.get(username="admin")
    tag = "1" if suite == "SM2-SM3" else "2"
    body = f"11359900MB9BENCH{tag}"
    department, _ = Department.objects.get_or_create(
        credit_code=body + credit_check_char(body),
        defaults={"name": f"基准测试局{tag}", "level": 3, "region_code": "359900"},
    )
    today = timezone.localdate()
    if not department.seals.exists():
        seal_services.create_seal(
            admin,
            department,
            name=f"基准测试局{tag}",
            valid_from=today - dt.timedelta(days=1),
            valid_until=today + dt.timedelta(days=365),
            suite=suite,
        )
    kind, _ = LicenseType.objects.get_or_create(
        code=f"11100000000013338W9{tag}0",
        defaults={
            "name": f"基准测试证{tag}",
            "defining_authority": "国家市场监督管理总局",
            "defining_authority_code": "11100000000013338W",
            "holder_type": "111",
            "fields": [{"name": "address", "label": "地址", "type": "string"}],
            "validity_years": 5,
        },
    )

    def one(n: int):
        body = f"359902{dt.date(1960, 1, 1) + dt.timedelta(days=n % 20000):%Y%m%d}{n % 1000:03d}"
        return services.issue(
            admin,
            kind,
            issuer=department,
            holder_name=f"持证人{n}",
            holder_code=body + id_check_char(body),
            fields={"address": f"示范市东城区东湖路 {n} 号"},
        )

    with transaction.atomic():
        made = [one(n) for n in range(licences)]
    return kind, department, one, made


def part_verify(server: DemoServer, suite: str, made: list, args, wrk_bin: str) -> dict:
    from yiwang.licenses import services

    bodies = [
        json.dumps({"payload": services.present(lic, ["holder_name", "age_over_18"])})
        for lic in made
    ]
    lua = (
        "bodies = {" + ", ".join(json.dumps(b) for b in bodies) + "}\n"
        + VERIFY_LUA.format(report=json.dumps(str(HERE / "report.lua")))
    )  # fmt: skip
    wrk_run(wrk_bin, server.base_url, lua, args, 2)  # warm-up
    result = wrk_run(wrk_bin, server.base_url, lua, args, args.seconds)
    return result


def part_issue(one, start: int, count: int, *, batched: bool) -> float:
    """Issued licences per second: each its own transaction (as at 办结), or all in one
    (what the CPU allows once the database commit is not counted)."""
    from django.db import transaction

    from yiwang.licenses import qr, services

    started = time.perf_counter()
    with transaction.atomic() if batched else contextlib.nullcontext():
        for n in range(start, start + count):
            lic = one(n)
            qr.svg(services.verify_url(lic, "https://zwfw.example.cn"))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--licences", type=int, default=200, help="licences verified in rotation")
    parser.add_argument("--issue", type=int, default=300, help="licences issued per suite")
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    args = parser.parse_args()
    wrk_bin = ensure_wrk()

    server = DemoServer(workers=2, prefix="yiwang-bench-licenses-")
    server.env["GRANIAN_BLOCKING_THREADS"] = serve_blocking_threads()
    server.env["YIWANG_LICENSE_VERIFY_RATE"] = "none"  # measure the endpoint, not the limit
    results: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": vars(args) | {"server": "granian wsgi, 2 workers", "database": "SQLite"},
        "suites": {},
    }
    log("== licences bench on SQLite (granian, 2 workers)")
    try:
        server.manage("migrate", "--noinput", "-v0")
        server.manage("load_demo", "--cases", "0")
        setup_django(server)
        server.start(worker=False)
        healthz_lua = 'local paths = {"/healthz"}\n' + (HERE / "report.lua").read_text()
        wrk_run(wrk_bin, server.base_url, healthz_lua, args, 2)
        healthz = wrk_run(wrk_bin, server.base_url, healthz_lua, args, args.seconds)
        log(f"-- GET /healthz (same server) {healthz['rps']:8.1f} req/s")
        results["healthz"] = healthz
        for suite in SUITES:
            _, _, one, made = fixture(suite, args.licences)
            raw_verify = raw_rate(suite, args.raw_seconds, sign=False)
            raw_sign = raw_rate(suite, args.raw_seconds, sign=True)
            http = part_verify(server, suite, made, args, wrk_bin)
            issue_rate = part_issue(one, 10_000, args.issue, batched=False)
            issue_batched = part_issue(one, 20_000, args.issue, batched=True)
            verify_ratio = http["rps"] / raw_verify
            issue_ratio = issue_rate / raw_sign
            log(f"-- {suite}")
            log(f"   raw verify (1 core)        {raw_verify:8.0f} /s")
            log(f"   verify / healthz           {http['rps'] / healthz['rps']:8.3f}")
            log(f"   raw sign (1 core)          {raw_sign:8.0f} /s")
            log(
                f"   POST /api/v1/licenses/verify {http['rps']:8.1f} req/s   p95 "
                f"{http['p95_ms']:.1f} ms   errors {http['error_count']}   ratio {verify_ratio:.3f}"
            )
            log(f"   issue + QR, one commit each {issue_rate:7.1f} /s   ratio {issue_ratio:.3f}")
            log(
                f"   issue + QR, one transaction {issue_batched:7.1f} /s   ratio "
                f"{issue_batched / raw_sign:.3f}"
            )
            log(
                "   "
                + goal("verify ≥ 0.3 of raw", verify_ratio >= GOAL_RATIO, f"{verify_ratio:.3f}")
            )
            results["suites"][suite] = {
                "raw_verify_per_s": raw_verify,
                "raw_sign_per_s": raw_sign,
                "verify_http": http,
                "verify_ratio": verify_ratio,
                "issue_per_s": issue_rate,
                "issue_ratio": issue_ratio,
                "issue_batched_per_s": issue_batched,
            }
    finally:
        server.stop()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "licenses.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    log(f"results: {out}")


if __name__ == "__main__":
    main()
