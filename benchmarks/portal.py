"""Portal under load: requests per second and median/p99 latency of the cached public JSON API and of the
uncached data-explorer query, served by gunicorn on PostgreSQL, loaded from a second process on 127.0.0.1.

Claim (issue 6): ≥ 500 requests/s for cached public JSON; p99 under 200 ms for uncached explorer queries.
Anchor, measured in the same run: /healthz (a handful of trivial queries — the database check and the
task queue's depth — through the same middleware: about the floor of a request's cost here).

    .venv/bin/python benchmarks/portal.py [--seconds 10] [--concurrency 16] [--explorer-concurrency 4,16]
                                          [--workers 2] [--threads 4] [--runs 3] [--max-requests 50000]

Every run is bounded in time (--seconds) and in count (--max-requests per run), and only ever talks to
127.0.0.1. The load average is printed before and after each scenario: the figures are only as good as
the machine was quiet. The server's CPU time per request (gunicorn master and workers, from /proc) is
printed too: what the code path costs, whatever else the shared machine was doing.

Starts a private PostgreSQL (scripts/services.sh, port $OBSERVATORY_PG_PORT or 55444) unless DATABASE_URL
is set, loads reference data and one release built from the real annex tables (1.2 and 7.1) through the
apps' own import services, then serves with gunicorn and loads it from a second process: threads, each
with a keep-alive connection speaking minimal HTTP/1.1 over a raw socket (http.client's header parsing
would cost the shared cores more than the server's cached answers do). The load generator's own CPU time
per request is printed, as is PostgreSQL's (its postmaster and backends, from /proc).

Explorer queries are drawn at random (seeded) and never repeat within a benchmark: the explorer has no
page cache, so each is answered from the database; its p99 is judged at 4 clients (two per core) and
printed for 16 and for one client at a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
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


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection((HOST, port), timeout=30)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _exchange(connection: socket.socket, request: bytes, buffer: bytearray) -> tuple[int, bool]:
    """Send one GET on a keep-alive connection and read the whole response (Content-Length or chunked):
    (status, whether the server keeps the connection open). ``buffer`` carries bytes read ahead."""
    connection.sendall(request)
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[: end + 4]
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def need(size: int) -> None:
        while len(buffer) < size:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            buffer.extend(chunk)

    if "content-length" in headers:
        size = int(headers["content-length"])
        need(size)
        del buffer[:size]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            while (eol := buffer.find(b"\r\n")) < 0:
                need(len(buffer) + 1)
            size = int(bytes(buffer[:eol]).split(b";")[0], 16)
            need(eol + 2 + size + 2)
            del buffer[: eol + 2 + size + 2]
            if size == 0:
                break
    elif status not in (204, 304):
        raise ConnectionError("response without a length")
    return status, headers.get("connection", "").lower() != "close"


def load(
    port: int, paths: list[str], seconds: float, concurrency: int, max_requests: int, start: int = 0
) -> dict[str, float]:
    """Run in the load process: ``concurrency`` threads, each with a keep-alive connection to 127.0.0.1
    speaking minimal HTTP/1.1 over a raw socket (cheap: the load generator shares the two cores with
    the server), for at most ``seconds`` and ``max_requests`` requests in all. Thread ``t`` sends
    ``paths[start + t]``, ``paths[start + t + concurrency]``, … so no two requests of a run repeat a
    path while the list lasts."""
    sys.setswitchinterval(0.0005)  # a thread whose response arrived waits less for the GIL
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    per_thread = max(1, max_requests // concurrency)
    requests = [f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode() for path in paths]

    def worker(offset: int) -> None:
        nonlocal errors
        connection = _connect(port)
        buffer = bytearray()
        mine: list[float] = []
        index = start + offset
        bad = 0
        while time.monotonic() < stop_at and len(mine) + bad < per_thread:
            request = requests[index % len(requests)]
            index += concurrency
            started = time.perf_counter()
            try:
                status, keep = _exchange(connection, request, buffer)
            except (OSError, ValueError):
                bad += 1
                connection.close()
                connection, buffer = _connect(port), bytearray()
                continue
            mine.append(time.perf_counter() - started)
            if status != 200:
                bad += 1
            if not keep:
                connection.close()
                connection, buffer = _connect(port), bytearray()
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    cpu_before = time.process_time()
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    client_cpu = time.process_time() - cpu_before
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": p99 * 1000,
        "client_cpu_ms": client_cpu * 1000 / max(1, len(latencies)),
    }


def run_load_process(
    port: int, paths: list[str], seconds: float, concurrency: int, max_requests: int, start: int = 0
) -> dict[str, float]:
    """The load generator runs in a second process, so it does not share the server's interpreter
    (the paths go through its standard input: too many for a command line)."""
    spec = {
        "port": port,
        "paths": paths,
        "seconds": seconds,
        "concurrency": concurrency,
        "max_requests": max_requests,
        "start": start,
    }
    result = subprocess.run(
        [PYTHON, __file__, "--load", "-"],
        input=json.dumps(spec),
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    loaded: dict[str, float] = json.loads(result.stdout)
    return loaded


EXPLORER_COUNTRIES = [
    "COL",
    "PER",
    "BOL",
    "ECU",
    "VEN",
    "BRA",
    "ARG",
    "CHL",
    "URY",
    "PRY",
    "USA",
    "CAN",
    "MEX",
    "GTM",
    "FRA",
    "DEU",
    "ITA",
    "ESP",
    "NLD",
    "BEL",
    "PRT",
    "GBR",
    "IRL",
    "POL",
    "CZE",
    "SWE",
    "NOR",
    "FIN",
    "DNK",
    "AUT",
    "CHE",
    "AUS",
    "NZL",
    "IND",
    "CHN",
    "JPN",
    "KOR",
    "THA",
    "VNM",
    "PHL",
    "IDN",
    "MYS",
    "NGA",
    "ZAF",
    "KEN",
    "EGY",
    "MAR",
    "IRN",
    "AFG",
    "PAK",
    "TUR",
    "RUS",
    "UKR",
]
EXPLORER_CHOICES = (
    *(("prevalence_past_year", d) for d in ("cannabis", "cocaine", "ats", "ecstasy", "opiates", "opioids", "nps", "")),
    *(("seizures_kg", d) for d in ("cannabis", "cocaine", "opioids", "ats", "ecstasy", "sedatives", "")),
)  # fmt: skip
EXPLORER_DISTRIBUTION = (
    f"indicator × drug uniform over {len(EXPLORER_CHOICES)} pairs (past-year prevalence × 8, kg seized × 7, "
    f"one of each 'all drugs'), 1–4 countries uniform from {len(EXPLORER_COUNTRIES)}, first year uniform "
    "2000–2019, last year 2024; random.Random(463), duplicates dropped"
)


def explorer_paths(count: int = 20000, seed: int = 463) -> list[str]:
    """``count`` distinct explorer queries, drawn as ``EXPLORER_DISTRIBUTION`` says. No two requests
    of a scenario repeat one (each run starts where the previous one stopped), and the server keeps
    no page cache, so every request is answered from the database."""
    rng = random.Random(seed)
    paths: list[str] = []
    seen: set[str] = set()
    while len(paths) < count:
        indicator, drug = rng.choice(EXPLORER_CHOICES)
        chosen = ",".join(rng.sample(EXPLORER_COUNTRIES, rng.randint(1, 4)))
        path = (
            f"/publication/explore/?indicator={indicator}&drug={drug}&country={chosen}"
            f"&from={rng.randint(2000, 2019)}&to=2024"
        )
        if path not in seen:
            seen.add(path)
            paths.append(path)
    return paths


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def postgres_pid(database_url: str) -> int | None:
    """The postmaster's process id (from postmaster.pid in its data directory), when readable here."""
    import psycopg

    try:
        with psycopg.connect(database_url) as connection:
            row = connection.execute("SELECT current_setting('data_directory')").fetchone()
        return int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError, psycopg.Error):
        return None


def postgres_cpu_seconds(postmaster: int | None) -> float:
    """CPU time of PostgreSQL's postmaster and backends (those alive at the time of reading)."""
    return _cpu_seconds([postmaster, *_children(postmaster)]) if postmaster else 0.0


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's master and workers, from /proc: what a request
    costs the server, whatever else the shared machine is doing at the time."""
    return _cpu_seconds([master, *_children(master)])


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16, help="clients for the cached JSON")
    parser.add_argument(
        "--explorer-concurrency",
        default="4,16",
        help="client counts for the uncached explorer (comma-separated); the first is the one the "
        "target is judged at (two clients per core of this 2-core machine: the server saturated, not "
        "a queue 8 deep); one client at a time is measured besides",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--max-requests", type=int, default=50000, help="upper bound per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; the median run is reported")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        spec = json.loads(sys.stdin.read() if args.load == "-" else args.load)
        result = load(
            spec["port"], spec["paths"], spec["seconds"], spec["concurrency"], spec["max_requests"],
            spec.get("start", 0),
        )  # fmt: skip
        print(json.dumps(result))
        return
    explorer_levels = [int(c) for c in args.explorer_concurrency.split(",") if c.strip()]
    with postgres() as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "ERROR"}
        setup = subprocess.run(
            [PYTHON, "-c", SETUP], cwd=ROOT, env=env, check=False, capture_output=True, text=True
        )
        if setup.returncode != 0:
            sys.exit(f"setting up the benchmark database failed:\n{setup.stderr[-3000:]}")
        observations = setup.stdout.strip().splitlines()[-1]
        explorer = explorer_paths()
        print(
            f"release {LABEL} on PostgreSQL: {observations} published figures; "
            f"gunicorn -w {args.workers} --threads {args.threads} (gthread); clients are threads in a "
            f"second process on raw keep-alive HTTP/1.1 sockets; {args.seconds:g} s per run, {args.runs} runs "
            f"per scenario, the median run (by req/s) reported"
        )
        print(f"explorer queries: {len(explorer)} distinct; {EXPLORER_DISTRIBUTION}")
        scenarios: dict[str, tuple[list[str], int]] = {
            "anchor /healthz": (["/healthz"], args.concurrency),
            # the current release: its stamp from the process cache (≤ 1 s old, never past an
            # embargo), body from the cache
            "cached public JSON": (
                [
                    "/api/v1/public/observations?indicator=prevalence_past_year&drug=cannabis&limit=200",
                    "/api/v1/public/datasets",
                    "/api/v1/public/releases",
                ],
                args.concurrency,
            ),
            # a release named in the URL: public once, public for good: no query at all
            "cached JSON, named release": (
                [
                    f"/api/v1/public/observations?release={LABEL}&indicator=prevalence_past_year&drug=cannabis&limit=200",
                    f"/api/v1/public/datasets?release={LABEL}",
                    f"/api/v1/public/releases/{LABEL}",
                ],
                args.concurrency,
            ),
            # the same queries one at a time: the service time, without queueing behind other requests
            "uncached explorer, 1 client": (explorer, 1),
            **{f"uncached explorer, {c} clients": (explorer, c) for c in explorer_levels},
        }
        results: dict[str, dict[str, float]] = {}
        print(f"{os.cpu_count()} CPUs; load average before: {_load_average()}")
        postmaster = postgres_pid(database_url)
        next_explorer = 0  # explorer queries are never repeated within the whole benchmark
        with gunicorn(database_url, args.port, args.workers, args.threads) as master:
            for name, (paths, concurrency) in scenarios.items():
                is_explorer = paths is explorer
                # warm up connections (explorer: with queries of its own, never measured)
                warm = explorer[-3:] if is_explorer else paths[:3]
                run_load_process(args.port, warm, 2.0, 4, args.max_requests)
                cpu_before = server_cpu_seconds(master)
                pg_before = postgres_cpu_seconds(postmaster)
                runs = []
                for _ in range(args.runs):
                    run = run_load_process(
                        args.port, paths, args.seconds, concurrency, args.max_requests,
                        next_explorer if is_explorer else 0,
                    )  # fmt: skip
                    if is_explorer:
                        next_explorer += int(run["requests"] + run["errors"]) + concurrency
                    runs.append(run)
                served = max(1, sum(r["requests"] for r in runs))
                cpu_ms = (server_cpu_seconds(master) - cpu_before) * 1000 / served
                pg_ms = (postgres_cpu_seconds(postmaster) - pg_before) * 1000 / served
                runs.sort(key=lambda r: r["rps"])
                results[name] = runs[len(runs) // 2]
                r = results[name]
                print(
                    f"{name:<30} {r['rps']:7.0f} req/s   median {r['median_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms"
                    f"   CPU ms/request: server {cpu_ms:4.1f}, PostgreSQL {pg_ms:4.1f}, client {r['client_cpu_ms']:4.2f}"
                    f"   ({int(r['requests'])} requests, {int(r['errors'])} errors; runs "
                    + "/".join(f"{x['rps']:.0f}" for x in runs)
                    + f" req/s; load {_load_average()})"
                )
        if next_explorer > len(explorer):
            print(f"note: {next_explorer} explorer requests wrapped around {len(explorer)} distinct queries")
    anchor = results["anchor /healthz"]["rps"]
    cached = results["cached public JSON"]
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
    judged = explorer_levels[0]
    explorer_result = results[f"uncached explorer, {judged} clients"]
    others = ", ".join(
        f"{c} clients: p99 {results[f'uncached explorer, {c} clients']['p99_ms']:.0f} ms"
        for c in explorer_levels[1:]
    )
    print(
        f"uncached explorer p99: {explorer_result['p99_ms']:.0f} ms with {judged} clients; target < 200 ms: "
        f"{'met' if explorer_result['p99_ms'] < 200 else 'NOT met'} (one client at a time: p99 {alone['p99_ms']:.0f} ms, "
        f"median {alone['median_ms']:.0f} ms{'; ' + others if others else ''})"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
