"""Benchmarks against the real server (granian, 2 workers), each as a ratio to a baseline.

Run with `make bench` (docs/benchmarks.md explains what is measured and how to
read it). The absolute numbers depend on the machine; the ratios against
/healthz, measured in the same run on the same machine, are what to compare.
Goals are printed as met / not met, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from server import DemoServer  # noqa: E402

RESULTS = HERE / "results"
SEARCH_QUERIES = [
    "营业执照",
    "开饭店",
    "身份证",
    "社保卡",
    "出生证明",
    "公积金",
    "建设工程",
    "备案",
]
GOAL_RATIO = 0.5
GOAL_P95_MS = 30.0


def serve_blocking_threads() -> str:
    """The granian thread cap `make run` uses (scripts/serve.sh), so the bench runs the same."""
    serve = (HERE.parent / "scripts" / "serve.sh").read_text()
    return re.search(r"--blocking-threads (\d+)", serve).group(1)


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- data


def grow_catalog(server: DemoServer, listings: int) -> int:
    """Bring the catalog up to `listings` listings with the demo's synthetic generator."""
    current = count_listings(server)
    if current < listings:
        server.manage("load_demo", "--listings", str(listings - current), timeout=1800)
    return count_listings(server)


def count_listings(server: DemoServer) -> int:
    out = server.manage(
        "shell",
        "-c",
        "from yiwang.catalog.models import ServiceListing as L; print('COUNT', L.objects.count())",
    )
    return int(re.search(r"COUNT (\d+)", out).group(1))


def guide_code(server: DemoServer) -> str:
    """The implementation code of the 企业设立登记 guide (else any listing in use)."""
    out = server.manage(
        "shell",
        "-c",
        "from yiwang.catalog.models import ServiceListing as L\n"
        "qs = L.objects.filter(status='1')\n"
        "hit = qs.filter(item__name__contains='企业设立登记').first() or qs.first()\n"
        "print('CODE', hit.implementation_code if hit else '-')",
    )
    return re.search(r"CODE (\S+)", out).group(1)


# ---------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get install wrk (as root)")
    log("installing wrk (apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]
    subprocess.run([*apt, "update"], check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    subprocess.run([*apt, "install", "--no-install-recommends", "wrk"], check=True, env=env)  # noqa: S603
    return shutil.which("wrk") or sys.exit("wrk did not install")


def wrk(
    wrk_bin: str, base_url: str, paths: list[str], *, seconds: int, connections: int, threads: int
) -> dict:
    """One wrk run rotating over `paths`; latency percentiles come from the Lua done() hook."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target the loopback server they started")
    script = Path(tempfile.mkstemp(suffix=".lua", prefix="yiwang-wrk-")[1])
    table = ", ".join(json.dumps(p) for p in paths)
    script.write_text(f"local paths = {{{table}}}\n" + (HERE / "report.lua").read_text())
    try:
        out = subprocess.run(  # noqa: S603
            [
                wrk_bin,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                str(script),
                base_url + paths[0],
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        script.unlink()
    result = json.loads(re.search(r"^WRK_JSON (.*)$", out, re.M).group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p95_ms"] = result["latency_us"]["p95"] / 1000
    result["error_count"] = sum(result["errors"].values())
    return result


def check_ok(base_url: str, path: str) -> None:
    status, _, _ = fetch(base_url, path)
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}, not 200: nothing sensible to measure")


# ---------------------------------------------------------------- page weight and TTFB


def fetch(base_url: str, path: str, *, gzip_ok: bool = False) -> tuple[int, bytes, int]:
    """(status, decoded body, bytes on the wire) for one GET on a fresh connection."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    body = gzip.decompress(raw) if resp.getheader("Content-Encoding") == "gzip" else raw
    return resp.status, body, len(raw)


def page_weight(base_url: str, path: str) -> dict:
    """HTML plus the CSS and JS it links (same origin), decoded and as sent with gzip."""
    status, html, wire = fetch(base_url, path, gzip_ok=True)
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}")
    text = html.decode("utf-8", errors="replace")
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"', text)
    assets += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="stylesheet"', text)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', text)
    resources = [{"url": path, "bytes": len(html), "wire_bytes": wire, "status": status}]
    for url in dict.fromkeys(assets):
        target = urlsplit(urljoin(base_url + path, url))
        if f"{target.hostname}:{target.port}" != urlsplit(base_url).netloc:
            resources.append({"url": url, "bytes": None, "wire_bytes": None, "status": "external"})
            continue
        asset_path = target.path + (f"?{target.query}" if target.query else "")
        status, body, wire = fetch(base_url, asset_path, gzip_ok=True)
        resources.append({"url": url, "bytes": len(body), "wire_bytes": wire, "status": status})
    counted = [r for r in resources if isinstance(r["bytes"], int)]
    return {
        "path": path,
        "html_bytes": len(html),
        "total_bytes": sum(r["bytes"] for r in counted),
        "total_wire_bytes": sum(r["wire_bytes"] for r in counted),
        "resources": resources,
    }


def ttfb(base_url: str, path: str, requests: int) -> dict:
    """Time to first byte over one keep-alive connection, one request at a time."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    samples = []
    for _ in range(requests + 3):
        start = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()  # returns once the status line and headers have arrived
        samples.append((time.perf_counter() - start) * 1000)
        resp.read()
        if resp.status != 200:
            raise SystemExit(f"GET {path} answered {resp.status}")
    conn.close()
    samples = sorted(samples[3:])  # the first requests warm the worker's caches
    return {
        "path": path,
        "requests": requests,
        "median_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))],
        "min_ms": samples[0],
    }


# ---------------------------------------------------------------- report


def goal(label: str, met: bool, detail: str) -> str:
    return f"goal {label}: {'met' if met else 'NOT MET'} ({detail})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=5000, help="catalog size (default 5000)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--ttfb-requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the bench var dir")
    args = parser.parse_args()

    wrk_bin = ensure_wrk()
    server = DemoServer(workers=2, prefix="yiwang-bench-")
    threads = serve_blocking_threads()
    server.env["GRANIAN_BLOCKING_THREADS"] = threads
    results: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": vars(args)
        | {
            "server": f"granian wsgi, 2 workers, {threads} blocking threads each",
            "database": "SQLite",
        },
    }
    try:
        log(f"== preparing the bench database in {server.var_dir}")
        started = time.monotonic()
        server.prepare()
        results["listings"] = grow_catalog(server, args.listings)
        server.manage("collectstatic", "--noinput", "-v0")
        log(f"   {results['listings']} listings, ready in {time.monotonic() - started:.0f}s")
        server.start()
        code = guide_code(server)
        base = server.base_url

        search_paths = [f"/api/v1/catalog/search?q={quote(q)}" for q in SEARCH_QUERIES]
        for path in ["/healthz", search_paths[0], *search_paths[1:]]:
            check_ok(base, path)
        run = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads}
        warm = run | {"seconds": 2}

        log("== throughput (wrk)")
        wrk(wrk_bin, base, ["/healthz"], **warm)
        baseline = wrk(wrk_bin, base, ["/healthz"], **run)
        wrk(wrk_bin, base, search_paths, **warm)
        single = wrk(wrk_bin, base, search_paths[:1], **run)
        mixed = wrk(wrk_bin, base, search_paths, **run)
        results["throughput"] = {
            "baseline_healthz": baseline,
            "search_营业执照": single,
            "search_rotating": mixed | {"queries": SEARCH_QUERIES},
        }
        for name, r in [
            ("GET /healthz", baseline),
            ("search 营业执照", single),
            (f"search x{len(SEARCH_QUERIES)} queries", mixed),
        ]:
            log(
                f"   {name:<26} {r['rps']:>9.0f} req/s"
                f"   p50 {r['latency_us']['p50'] / 1000:6.2f} ms"
                f"   p95 {r['p95_ms']:6.2f} ms   p99 {r['latency_us']['p99'] / 1000:6.2f} ms"
                f"   errors {r['error_count']}"
            )
        ratio_single = single["rps"] / baseline["rps"]
        ratio_mixed = mixed["rps"] / baseline["rps"]
        results["ratios"] = {"search_vs_healthz": ratio_single, "rotating_vs_healthz": ratio_mixed}
        log(f"   ratio search/healthz: {ratio_single:.2f} (rotating queries: {ratio_mixed:.2f})")

        log(f"== service guide /services/{code}/")
        guide_path = f"/services/{code}/"
        weight = page_weight(base, guide_path)
        guide_ttfb = ttfb(base, guide_path, args.ttfb_requests)
        health_ttfb = ttfb(base, "/healthz", args.ttfb_requests)
        ttfb_ratio = guide_ttfb["median_ms"] / health_ttfb["median_ms"]
        results["guide"] = {
            "weight": weight,
            "ttfb": guide_ttfb,
            "ttfb_healthz": health_ttfb,
            "ttfb_ratio_vs_healthz": ttfb_ratio,
        }
        log(
            f"   page weight {weight['total_bytes'] / 1024:.1f} KiB decoded,"
            f" {weight['total_wire_bytes'] / 1024:.1f} KiB sent"
            f" (HTML {weight['html_bytes'] / 1024:.1f} KiB + {len(weight['resources']) - 1} CSS/JS)"
        )
        log(
            f"   TTFB median {guide_ttfb['median_ms']:.2f} ms (p95 {guide_ttfb['p95_ms']:.2f} ms)"
            f" vs /healthz {health_ttfb['median_ms']:.2f} ms: {ttfb_ratio:.1f}x"
        )

        clean = all(r["error_count"] == 0 for r in (baseline, single, mixed))
        goals = [
            goal(
                "search/healthz throughput ratio >= 0.5",
                ratio_single >= GOAL_RATIO,
                f"{ratio_single:.2f}",
            ),
            goal(
                "rotating-query search ratio >= 0.5",
                ratio_mixed >= GOAL_RATIO,
                f"{ratio_mixed:.2f}",
            ),
            goal(
                "search p95 < 30 ms",
                max(single["p95_ms"], mixed["p95_ms"]) < GOAL_P95_MS,
                f"{single['p95_ms']:.1f} / {mixed['p95_ms']:.1f} ms",
            ),
            goal(
                "no socket errors or non-2xx answers",
                clean,
                ", ".join(f"{k} {v}" for k, v in mixed["errors"].items()),
            ),
        ]
        results["goals"] = goals
        log("== goals")
        for line in goals:
            log(f"   {line}")
    finally:
        server.stop()
        if args.keep:
            log(f"kept {server.var_dir}")
        else:
            server.remove()

    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(results, ensure_ascii=False, indent=2))
    log(f"results: bench/results/bench-{stamp}.json")


if __name__ == "__main__":
    main()
