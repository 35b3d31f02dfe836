"""Portal under load: requests per second and median/p99 latency of the cached public JSON API and of the
uncached data-explorer query, served by gunicorn on PostgreSQL, loaded from a second process on 127.0.0.1.

Claim (issue 6): ≥ 500 requests/s for cached public JSON; p99 under 200 ms for uncached explorer queries.
Anchor, measured in the same run: /healthz (one trivial query — the floor of a request's cost here).

    .venv/bin/python benchmarks/portal.py [--seconds 10] [--concurrency 16] [--workers 2] [--runs 3]

Starts a private PostgreSQL (scripts/services.sh, port $OBSERVATORY_PG_PORT or 55444) unless DATABASE_URL
is set, loads reference data and one release built from the real annex tables (1.2 and 7.1) through the
apps' own import services, then serves with gunicorn and loads it with threads + http.client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"

SETUP = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from observatory.reference.loading import load_reference
from observatory.reference.models import Country
from observatory.access.services import sync_roles, create_user, assign_role
from observatory.access.models import User
if not Country.objects.exists():
    load_reference()
sync_roles()
reviewer = User.objects.filter(username="reviewer").first()
if reviewer is None:
    reviewer = create_user(None, "reviewer", "benchmark-password-123", system=True)
    assign_role(None, reviewer, "reviewer", system=True)
from observatory.reporting.services import load_instruments, import_annex_prevalence, shipped_annex_path
from observatory.reporting.models import Submission
load_instruments()
if not Submission.objects.filter(origin=Submission.Origin.ANNEX_1_2).exists():
    import_annex_prevalence(None, shipped_annex_path(), system=True)
from observatory.publication import demo
demo.load_demo()
from observatory.publication.models import Release
print(Release.objects.get(label=demo.DEMO_LABEL).observation_count)
"""


@contextmanager
def postgres() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    port = os.environ.get("OBSERVATORY_PG_PORT", "55444")
    started = subprocess.run(
        [
            "bash",
            "-c",
            f"source scripts/services.sh && OBSERVATORY_PG_PORT={port} start_private_postgres >&2 "
            '&& echo "$POSTGRES_URL $OBSERVATORY_PG_DIR"',
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    url, directory = started.stdout.split()
    try:
        yield url
    finally:
        subprocess.run(
            [
                "bash",
                "-c",
                f"source scripts/services.sh && export OBSERVATORY_PG_DIR={directory} && "
                'if [ "$(id -u)" = 0 ]; then PG_RUN_AS=(runuser -u postgres --); else PG_RUN_AS=(); fi; '
                "stop_private_postgres",
            ],
            cwd=ROOT,
            check=False,
        )


@contextmanager
def gunicorn(database_url: str, port: int, workers: int) -> Iterator[None]:
    env = {**os.environ, "DATABASE_URL": database_url, "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "observatory.wsgi:application",
            "-b",
            f"{HOST}:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status in (200, 503):
                    break
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not start")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(port: int, paths: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    """Run in the load process: ``concurrency`` threads with keep-alive connections for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        index = offset
        bad = 0
        while time.monotonic() < stop_at:
            path = paths[index % len(paths)]
            index += concurrency
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": p99 * 1000,
    }


def run_load_process(port: int, paths: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    """The load generator runs in a second process, so it does not share the server's interpreter."""
    result = subprocess.run(
        [
            PYTHON,
            __file__,
            "--load",
            json.dumps({"port": port, "paths": paths, "seconds": seconds, "concurrency": concurrency}),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    loaded: dict[str, float] = json.loads(result.stdout)
    return loaded


def explorer_paths() -> list[str]:
    """Distinct explorer queries (each a different indicator × drug × country set × years: no cache hit)."""
    countries = [
        "COL",
        "PER",
        "BOL",
        "USA",
        "CAN",
        "MEX",
        "BRA",
        "ARG",
        "FRA",
        "DEU",
        "ITA",
        "ESP",
        "NLD",
        "GBR",
        "AUS",
        "NZL",
        "IND",
        "CHN",
        "NGA",
        "ZAF",
        "EGY",
        "IRN",
        "AFG",
        "PAK",
    ]
    paths = []
    for i in range(400):
        indicator, drug = [
            ("prevalence_past_year", "cannabis"),
            ("prevalence_past_year", "cocaine"),
            ("seizures_kg", "cocaine"),
            ("seizures_kg", "cannabis"),
            ("prevalence_past_year", ""),
        ][i % 5]
        chosen = ",".join(countries[(i * 7 + k) % len(countries)] for k in range(1 + i % 4))
        paths.append(
            f"/publication/explore/?indicator={indicator}&drug={drug}&country={chosen}&from={2000 + i % 15}&to=2024"
        )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; the median run is reported")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        spec = json.loads(args.load)
        print(json.dumps(load(spec["port"], spec["paths"], spec["seconds"], spec["concurrency"])))
        return
    with postgres() as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "ERROR"}
        setup = subprocess.run(
            [PYTHON, "-c", SETUP], cwd=ROOT, env=env, check=False, capture_output=True, text=True
        )
        if setup.returncode != 0:
            sys.exit(f"setting up the benchmark database failed:\n{setup.stderr[-3000:]}")
        observations = setup.stdout.strip().splitlines()[-1]
        print(
            f"release WDR2025 on PostgreSQL: {observations} published figures; gunicorn -w {args.workers}; "
            f"{args.concurrency} client threads in a second process, {args.seconds:g} s per run, {args.runs} runs"
        )
        scenarios = {
            "anchor /healthz": ["/healthz"],
            "cached public JSON": [
                "/api/v1/public/observations?indicator=prevalence_past_year&drug=cannabis&limit=200",
                "/api/v1/public/datasets",
                "/api/v1/public/releases",
            ],
            "uncached explorer query": explorer_paths(),
        }
        results: dict[str, dict[str, float]] = {}
        with gunicorn(database_url, args.port, args.workers):
            for name, paths in scenarios.items():
                run_load_process(args.port, paths[:3], 2.0, 4)  # warm up connections and caches
                runs = [
                    run_load_process(args.port, paths, args.seconds, args.concurrency)
                    for _ in range(args.runs)
                ]
                runs.sort(key=lambda r: r["rps"])
                results[name] = runs[len(runs) // 2]
                r = results[name]
                print(
                    f"{name:<26} {r['rps']:8.0f} req/s   median {r['median_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms"
                    f"   ({int(r['requests'])} requests, {int(r['errors'])} errors)"
                )
    anchor = results["anchor /healthz"]["rps"]
    cached = results["cached public JSON"]
    explorer = results["uncached explorer query"]
    print(
        f"cached public JSON: {cached['rps']:.0f} req/s = {cached['rps'] / anchor:.2f} × the /healthz anchor "
        f"({anchor:.0f} req/s); target ≥ 500 req/s: {'met' if cached['rps'] >= 500 else 'NOT met'}"
    )
    print(
        f"uncached explorer p99: {explorer['p99_ms']:.0f} ms; target < 200 ms: "
        f"{'met' if explorer['p99_ms'] < 200 else 'NOT met'}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
