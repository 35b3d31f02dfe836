"""Portal under load: requests per second and median/p99 latency of the cached public JSON API and of the
uncached data-explorer query, served by gunicorn on PostgreSQL, loaded from a second process on 127.0.0.1.

Claim (issue 6): ≥ 500 requests/s for cached public JSON; p99 under 200 ms for uncached explorer queries.
Anchor, measured in the same run: /healthz (a handful of trivial queries — the database check and the
task queue's depth — through the same middleware: about the floor of a request's cost here).

    .venv/bin/python benchmarks/portal.py [--seconds 10] [--concurrency 16] [--workers 2] [--threads 4]
                                          [--runs 3] [--max-requests 50000]

Every run is bounded in time (--seconds) and in count (--max-requests per run), and only ever talks to
127.0.0.1. The load average is printed before and after each scenario: the figures are only as good as
the machine was quiet. The server's CPU time per request (gunicorn master and workers, from /proc) is
printed too: what the code path costs, whatever else the shared machine was doing.

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
LABEL = "WDR2025"  # the release the demonstration data builds (observatory.publication.demo)

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
def gunicorn(database_url: str, port: int, workers: int, threads: int) -> Iterator[int]:
    env = {**os.environ, "DATABASE_URL": database_url, "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "observatory.wsgi:application",
            "-b",
            f"{HOST}:{port}",
            "-w",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
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
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(
    port: int, paths: list[str], seconds: float, concurrency: int, max_requests: int
) -> dict[str, float]:
    """Run in the load process: ``concurrency`` threads with keep-alive connections to 127.0.0.1, for at
    most ``seconds`` and at most ``max_requests`` requests in all."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    per_thread = max(1, max_requests // concurrency)

    def worker(offset: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        index = offset
        bad = 0
        while time.monotonic() < stop_at and len(mine) + bad < per_thread:
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


def run_load_process(
    port: int, paths: list[str], seconds: float, concurrency: int, max_requests: int
) -> dict[str, float]:
    """The load generator runs in a second process, so it does not share the server's interpreter."""
    spec = {
        "port": port,
        "paths": paths,
        "seconds": seconds,
        "concurrency": concurrency,
        "max_requests": max_requests,
    }
    result = subprocess.run(
        [PYTHON, __file__, "--load", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
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


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's master and workers, from /proc: what a request
    costs the server, whatever else the shared machine is doing at the time."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [master]
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--max-requests", type=int, default=50000, help="upper bound per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; the median run is reported")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        spec = json.loads(args.load)
        result = load(spec["port"], spec["paths"], spec["seconds"], spec["concurrency"], spec["max_requests"])
        print(json.dumps(result))
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
            f"release {LABEL} on PostgreSQL: {observations} published figures; "
            f"gunicorn -w {args.workers} --threads {args.threads} (gthread); "
            f"{args.concurrency} client threads in a second process, {args.seconds:g} s per run, {args.runs} runs"
        )
        scenarios = {
            "anchor /healthz": ["/healthz"],
            # the current release: one indexed query (which release is current), body from the cache
            "cached public JSON": [
                "/api/v1/public/observations?indicator=prevalence_past_year&drug=cannabis&limit=200",
                "/api/v1/public/datasets",
                "/api/v1/public/releases",
            ],
            # a release named in the URL: public once, public for good: no query at all
            "cached JSON, named release": [
                f"/api/v1/public/observations?release={LABEL}&indicator=prevalence_past_year&drug=cannabis&limit=200",
                f"/api/v1/public/datasets?release={LABEL}",
                f"/api/v1/public/releases/{LABEL}",
            ],
            "uncached explorer query": explorer_paths(),
            # the same queries one at a time: the service time, without queueing behind other requests
            "uncached explorer, 1 client": explorer_paths(),
        }
        concurrency = {"uncached explorer, 1 client": 1}
        results: dict[str, dict[str, float]] = {}
        print(f"{os.cpu_count()} CPUs; load average before: {_load_average()}")
        with gunicorn(database_url, args.port, args.workers, args.threads) as master:
            for name, paths in scenarios.items():
                # warm up connections and caches
                run_load_process(args.port, paths[:3], 2.0, 4, args.max_requests)
                cpu_before = server_cpu_seconds(master)
                runs = [
                    run_load_process(
                        args.port,
                        paths,
                        args.seconds,
                        concurrency.get(name, args.concurrency),
                        args.max_requests,
                    )
                    for _ in range(args.runs)
                ]
                cpu_ms = (
                    (server_cpu_seconds(master) - cpu_before)
                    * 1000
                    / max(1, sum(r["requests"] for r in runs))
                )
                runs.sort(key=lambda r: r["rps"])
                results[name] = runs[len(runs) // 2]
                r = results[name]
                print(
                    f"{name:<26} {r['rps']:8.0f} req/s   median {r['median_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms"
                    f"   server CPU {cpu_ms:5.1f} ms/request"
                    f"   ({int(r['requests'])} requests, {int(r['errors'])} errors; load {_load_average()})"
                )
    anchor = results["anchor /healthz"]["rps"]
    cached = results["cached public JSON"]
    explorer = results["uncached explorer query"]
    print(
        f"cached public JSON: {cached['rps']:.0f} req/s = {cached['rps'] / anchor:.2f} × the /healthz anchor "
        f"({anchor:.0f} req/s); target ≥ 500 req/s: {'met' if cached['rps'] >= 500 else 'NOT met'}"
    )
    named = results["cached JSON, named release"]
    print(
        f"cached JSON naming the release: {named['rps']:.0f} req/s = {named['rps'] / anchor:.2f} × the anchor; "
        f"target ≥ 500 req/s: {'met' if named['rps'] >= 500 else 'NOT met'}"
    )
    alone = results["uncached explorer, 1 client"]
    print(
        f"uncached explorer p99: {explorer['p99_ms']:.0f} ms with {args.concurrency} clients; target < 200 ms: "
        f"{'met' if explorer['p99_ms'] < 200 else 'NOT met'} (one client at a time: p99 {alone['p99_ms']:.0f} ms, "
        f"median {alone['median_ms']:.0f} ms)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
