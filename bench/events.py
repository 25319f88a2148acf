"""Throughput of recording events, single and in batches, against bare baselines, at 1x and 10x data.

One run, on PostgreSQL only:

1. Drop and re-create a scratch database (its name must start with ``bench``), migrate it, and
   set it up through the real services: a producer (user + API token) holding a few hundred
   certificates with large quantities (400; 1,000 with ``--batch``), and a market (user + API
   token).
2. Single events: serve the app with gunicorn (sync workers, ``--workers 2`` by default,
   127.0.0.1, no access log) and record N events (default 100,000) with C concurrent clients
   (default 4), each a thread with its own keep-alive ``http.client`` connection posting JSON in
   order. Each client owns its own certificates and cycles through them: producer ``storing``
   (3-6 temperature readings), producer ``transporting`` (3-6 readings), producer ``shipping``
   1 kg to the market, market ``receiving`` it (with a min/max temperature pair; sometimes a
   little less than was shipped), market ``retail_selling`` 0.5 kg. Every event has a unique
   client ``event_id``. Any non-2xx answer fails the run. When the server runs without
   autovacuum, the bench runs ANALYZE on the event tables every 30 s (``--analyze-every``).
3. With ``--batch``: M more events (``--batch-events``, 10,000) of the same shapes through
   ``POST /api/v1/events/batch``, by the same clients: each client's stream in windows of whole
   certificate rounds, the producer's events of a window in one request (``--batch-size``, 600)
   and then the market's (2/3 as many). Every outcome must be 201.
4. The bare one-INSERT app (``bench/insert_app.py``) under the same gunicorn command line, the
   same clients and the very same requests as step 2: one row per POST, one commit.
5. SQL statements per event kind: one round of each kind through ``app.test_client()``, then
   100 events as two batches, counted with a ``before_cursor_execute`` listener.
6. Check consistency: events per kind are what was sent, no holding is negative, and every
   holding equals its issue quantity plus its ledger (``holding_changes``).
7. Bare Core executemany: the rows step 2 wrote to ``events``, ``event_items``,
   ``holding_changes`` and ``temperature_readings`` (then those of step 3), with new ids and
   client event ids, inserted with ``conn.execute(table.insert(), rows)``, ``--bare-chunk``
   (1,000) events per transaction. Only the inserts are timed; the copies are then deleted.
8. At 10x data (``--scale``, 10): copy every event (items and readings along, new ids and
   client event ids; not the ledger, so holdings still match) until the database holds SCALE
   times as many, and repeat steps 2-7 on later rounds of the same certificates.
9. Print one column per size of data: req/s of the API and the bare app and their ratio (goal
   0.5), the batch path and executemany events/s and their ratio (goal 0.3), worker CPU per
   request, statements per kind (goal: shipping 8 or fewer), and each API figure at 10x over
   1x (goal 0.8 or better, "within 20 %"); write them to ``bench/out/events.json``.

Usage (from the repository root, with the virtualenv active)::

    python bench/events.py --batch --events 10000   # every figure, at 1x and 10x
    python bench/events.py --quick --batch          # 1,000 + 1,000 events on 40 certificates
    python bench/events.py --events 20000 --clients 8 --workers 2 --scale 1
    python bench/events.py --quick --profile 500    # then cProfile 500 in-process requests

Options: ``--database-url`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/bench_events``; dropped and re-created),
``--certificates``, ``--bare-chunk``, ``--batch``, ``--batch-events``, ``--batch-size``,
``--scale``, ``--seed``, ``--analyze-every SECONDS`` (30; 0: never), ``--wsgi MODULE:APP`` with
``--pythonpath DIR`` (serve a variant of the app, to measure a change without editing it),
``--profile K`` (after everything, record K more events in-process through
``app.test_client()`` under cProfile, timed by CPU; the top functions printed, stats kept in
``bench/out/events.prof``).

CPU seconds come from /proc: the gunicorn workers, and every ``postgres`` process (a lower
bound: short-lived ones that exit during the run are missed). On a shared machine req/s falls
with other jobs' load while CPU per request does not, so compare runs by CPU per request too.

Exit status: 0 when every request answered 2xx and the checks held; 1 when a request failed or
a check did not hold; 2 for a setup failure (database, server not starting).

Traffic only ever goes to 127.0.0.1; every loop is bounded by N (a run stops early after 50
failed requests).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import platform
import pstats
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_events"
MAX_FAILURES = 50  # stop sending after this many failed requests
SHOW_FAILURES = 5  # print the bodies of the first few
CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 1, 6, 0, tzinfo=CST)

# (product, category, unit): vegetables, fruit and fish have temperature ranges (0-5, 0-10, 0-4 °C).
PRODUCTS = [
    ("大白菜", "vegetable", "kg"),
    ("西兰花", "vegetable", "kg"),
    ("草鱼", "aquatic", "kg"),
    ("红富士苹果", "fruit", "kg"),
    ("香菇", "edible_fungus", "jin"),
]
CYCLE = ("storing", "transporting", "shipping", "receiving", "retail_selling")


class SetupFailure(SystemExit):
    """A failure before or around the load: exit status 2."""


def die(message: str) -> SetupFailure:
    print(f"events: {message}", file=sys.stderr)
    return SetupFailure(2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--certificates", type=int, default=None, help="400; 1,000 with --batch (full batch requests)"
    )
    parser.add_argument(
        "--bare-chunk", type=int, default=1000, help="events per bare-insert transaction (executemany)"
    )
    parser.add_argument(
        "--batch", action="store_true", help="also send --batch-events through POST /api/v1/events/batch"
    )
    parser.add_argument("--batch-events", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=600, help="producer events per batch request")
    parser.add_argument(
        "--scale",
        type=int,
        default=10,
        help="repeat every figure with SCALE times the event history (1: skip)",
    )
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument(
        "--wsgi", default="wsgi:app", help="gunicorn app spec, to try a variant of the app (default wsgi:app)"
    )
    parser.add_argument("--pythonpath", default=None, help="extra gunicorn --pythonpath for --wsgi")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 events on 40 certificates (1,000 through --batch)"
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=30,
        metavar="SECONDS",
        help="when the server runs without autovacuum, ANALYZE the event tables "
        "this often during the run (0: never)",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="K", help="after the run, cProfile K in-process requests"
    )
    args = parser.parse_args(argv)
    if args.certificates is None:
        args.certificates = 1000 if args.batch else 400
    if args.quick:
        args.events, args.certificates = min(args.events, 2000), min(args.certificates, 40)
        args.events, args.batch_events = min(args.events, 1000), min(args.batch_events, 1000)
    counts = (args.events, args.clients, args.workers, args.bare_chunk, args.batch_events, args.scale)
    if min(counts) < 1:
        parser.error(
            "--events, --clients, --workers, --bare-chunk, --batch-events and --scale must be positive"
        )
    if not 3 <= args.batch_size <= 1000:
        parser.error("--batch-size is 3 to 1,000 (the server takes at most 1,000 events per request)")
    if args.certificates < args.clients:
        parser.error("need at least one certificate per client")
    return args


# --- database -------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise die("PostgreSQL only: give a postgresql+psycopg:// URL")
    name = parsed.database or ""
    if not name.startswith("bench"):
        raise die(f"refusing to drop database {name!r}: its name must start with 'bench'")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        raise die(f"cannot reach PostgreSQL: {exc.orig}") from exc
    finally:
        admin.dispose()


def make_app(url: str) -> Any:
    import traceapp

    return traceapp.create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})


@dataclass
class Setup:
    producer_token: str
    market_token: str
    market_org: str
    producer_org: str
    certificates: list[tuple[str, str, str]]  # (id, trace code, unit)


def seed(app: Any, n_certificates: int, rng: random.Random) -> Setup:
    """Organisations, users, tokens and certificates, all through the real services."""
    from traceapp import db
    from traceapp.certificates.models import Basis, Category, Commitment, Unit
    from traceapp.certificates.services import issue_certificate
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role

    tag = secrets.token_hex(3)
    with app.test_request_context(), db.transaction() as s:
        members = {}
        for kind, name in (
            (OrgKind.PRODUCER, "武汉木兰蔬菜专业合作社"),
            (OrgKind.MARKET, "武汉白沙洲农副产品大市场"),
        ):
            org = orgs.create_organisation(s, kind=kind, name=name, region_code="420116", phone="13812345678")
            email = f"{kind.value}-{tag}@example.cn"
            user = orgs.create_user(
                s, org_id=org.id, email=email, password="bench-password-1", role=Role.ADMIN
            )
            _token, plaintext = orgs.create_api_token(s, email=email)
            members[kind] = (org, user, plaintext)
        producer, producer_user, producer_token = members[OrgKind.PRODUCER]
        actor = orgs.Actor.of(producer_user)
        certificates = []
        for i in range(n_certificates):
            name, category, unit = PRODUCTS[i % len(PRODUCTS)]
            certificate, _created = issue_certificate(
                s,
                actor,
                data={
                    "event_id": uuid.uuid4(),
                    "product_name": name,
                    "category": Category(category),
                    "quantity": Decimal(rng.choice(["50000", "80000", "100000"])),
                    "unit": Unit(unit),
                    "origin": {"region_code": "420116", "address": "黄陂区木兰乡"},
                    "harvest_date": START.date(),
                    "batch_no": f"B{i:05d}",
                    "commitments": list(Commitment),
                    "basis": [Basis.SELF_TEST],
                },
            )
            certificates.append((str(certificate.id), certificate.trace_code, unit))
    market = members[OrgKind.MARKET]
    return Setup(producer_token, market[2], str(market[0].id), str(producer.id), certificates)


# --- the events to record -------------------------------------------------------------------

PRODUCER, MARKET = 0, 1  # which token a request carries


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _readings(rng: random.Random, start: datetime, category_high: float) -> list[dict[str, str]]:
    """3-6 readings 10 minutes apart, mostly inside the range, now and then a short excursion."""
    count = rng.randint(3, 6)
    out = []
    for k in range(count):
        celsius = rng.uniform(1.0, category_high - 1.0)
        if rng.random() < 0.03:
            celsius = category_high + rng.uniform(0.5, 3.0)
        out.append({"at": _at(start + timedelta(minutes=10 * k)), "celsius": f"{celsius:.1f}"})
    return out


HIGH = {"vegetable": 5.0, "aquatic": 4.0, "fruit": 10.0, "edible_fungus": 5.0}


def cycle_bodies(
    rng: random.Random, setup: Setup, index: int, code: str, category: str, round_no: int
) -> list[tuple[int, dict[str, Any]]]:
    """One round of a certificate's journey: store, transport, ship, receive, sell."""
    t0 = START + timedelta(hours=6 * round_no, minutes=index % 360)
    store = _readings(rng, t0, HIGH[category])
    transport = _readings(rng, t0 + timedelta(hours=1), HIGH[category])
    received = "1" if rng.random() < 0.9 else rng.choice(["0.95", "0.98", "0.99"])
    low = rng.uniform(1.0, 3.0)
    return [
        (
            PRODUCER,
            {
                "kind": "storing",
                "trace_code": code,
                "occurred_at": store[-1]["at"],
                "location": "木兰乡冷库 2 号",
                "temperatures": store,
            },
        ),
        (
            PRODUCER,
            {
                "kind": "transporting",
                "trace_code": code,
                "occurred_at": transport[-1]["at"],
                "temperatures": transport,
            },
        ),
        (
            PRODUCER,
            {
                "kind": "shipping",
                "trace_code": code,
                "quantity": "1",
                "unit": "kg",
                "to_org": setup.market_org,
                "occurred_at": _at(t0 + timedelta(hours=2)),
            },
        ),
        (
            MARKET,
            {
                "kind": "receiving",
                "trace_code": code,
                "quantity": received,
                "unit": "kg",
                "temperature_min": f"{low:.1f}",
                "temperature_max": f"{low + 1.5:.1f}",
                "occurred_at": _at(t0 + timedelta(hours=3)),
            },
        ),
        (
            MARKET,
            {
                "kind": "retail_selling",
                "trace_code": code,
                "quantity": "0.5",
                "unit": "kg",
                "occurred_at": _at(t0 + timedelta(hours=4)),
            },
        ),
    ]


SINGLE_PATH, BATCH_PATH = "/api/v1/events", "/api/v1/events/batch"


@dataclass
class Request:
    token: int
    kind: str
    body: bytes
    path: str = SINGLE_PATH
    events: int = 1  # events the request carries


def build_plan(
    setup: Setup, n: int, clients: int, rng: random.Random, first_round: int = 0
) -> list[list[Request]]:
    """``n`` requests (rounded down to whole rounds per client) split over the clients; each
    client owns its certificates and sends their rounds in order, so a receiving always follows
    its shipping. ``first_round``
    moves the times on, for a later run on the same certificates."""
    category = {code: PRODUCTS[i % len(PRODUCTS)][1] for i, (_id, code, _u) in enumerate(setup.certificates)}
    owned: list[list[tuple[int, str]]] = [[] for _ in range(clients)]
    for i, (_id, code, _unit) in enumerate(setup.certificates):
        owned[i % clients].append((i, code))
    quotas = [n // clients + (1 if c < n % clients else 0) for c in range(clients)]
    plan: list[list[Request]] = []
    for c in range(clients):
        requests: list[Request] = []
        round_no = first_round
        while len(requests) < quotas[c]:
            for index, code in owned[c]:
                for token, body in cycle_bodies(rng, setup, index, code, category[code], round_no):
                    body["event_id"] = str(uuid.uuid4())
                    requests.append(Request(token, body["kind"], json.dumps(body).encode()))
            round_no += 1
        # Whole rounds only: a shipment left unreceived would make a later receiving ambiguous.
        plan.append(requests[: quotas[c] - quotas[c] % len(CYCLE)])
    return plan


def rounds_in(setup: Setup, n: int, clients: int) -> int:
    """How many rounds ``build_plan`` of ``n`` events takes (the next plan starts after them)."""
    per_round = len(CYCLE) * (len(setup.certificates) // clients)
    return n // clients // max(per_round, 1) + 2


def batch_plan(plan: list[list[Request]], size: int, owned: int) -> list[list[Request]]:
    """The same events as batch requests: each client's stream cut into windows of whole
    certificate rounds (``size`` producer events, 2/3 as many market ones, at most one round of
    each of the ``owned`` certificates a client has), the producer's events of a window in one
    request, then the market's in another. A certificate's shipping still comes before its
    receiving, and never twice before it."""
    per_window = len(CYCLE) * max(1, min(size // 3, owned))
    out = []
    for requests in plan:
        batches: list[Request] = []
        for start in range(0, len(requests), per_window):
            window = requests[start : start + per_window]
            for token in (PRODUCER, MARKET):
                mine = [r for r in window if r.token == token]
                if mine:
                    body = b'{"events":[' + b",".join(r.body for r in mine) + b"]}"
                    batches.append(Request(token, "batch", body, BATCH_PATH, len(mine)))
        out.append(batches)
    return out


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_times(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process."""
    tick, times = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two ``cpu_times``: processes started since count whole, those
    that exited in between (short autovacuum workers) are missed, so this is a lower bound."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def host_busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    command: list[str]

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []


@contextmanager
def serve(url: str, workers: int, wsgi: str = "wsgi:app", pythonpath: str | None = None) -> Iterator[Server]:
    port, log = free_port(), OUT / "gunicorn-events.log"
    # No --access-logfile: gunicorn writes no access log unless asked.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "sync",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
        *(["--pythonpath", pythonpath] if pythonpath else []),
        wsgi,
    ]
    env = {**os.environ, "TRACEAPP_DATABASE_URL": url, "TRACEAPP_SECRET_KEY": "bench-" + secrets.token_hex(8)}
    # Counted, as in production, against a per-token limit this load never reaches.
    env.setdefault("TRACEAPP_RATELIMIT_API", "1000000000 per minute")
    env.setdefault("TRACEAPP_RATELIMIT_STORAGE_URL", f"sqlite:///{OUT / 'ratelimits.sqlite3'}")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(process, port, command)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise die(f"gunicorn exited ({process.returncode}); see {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                if len(server.worker_pids()) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise die(f"gunicorn did not answer in 60 s; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# --- the clients ----------------------------------------------------------------------------


@dataclass
class ClientResult:
    latencies: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    finished: list[float] = field(default_factory=list)  # monotonic completion times
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    socket_errors: int = 0
    events: int = 0  # events acknowledged (a batch request carries many)


def batch_refusals(body: bytes) -> list[str]:
    """The outcomes of a batch answer other than 201 (this bench's events are all new)."""
    try:
        results = json.loads(body)["results"]
    except (ValueError, KeyError, TypeError):
        return [f"batch answer without results: {body[:300]!r}"]
    return [
        f"batch event {r.get('index')} -> {r.get('status')}: {r.get('problem')}"
        for r in results
        if r.get("status") != 201
    ]


class Failures:
    def __init__(self) -> None:
        self.count, self.lock = 0, threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.count += 1

    @property
    def too_many(self) -> bool:
        return self.count >= MAX_FAILURES


def client(
    port: int,
    tokens: tuple[str, str],
    requests: list[Request],
    result: ClientResult,
    failures: Failures,
    start: threading.Barrier,
) -> None:
    headers = [
        {"Content-Type": "application/json", "Accept-Language": "en", "Authorization": f"Bearer {token}"}
        for token in tokens
    ]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start.wait()
    for request in requests:
        if failures.too_many:
            break
        began = time.perf_counter()
        try:
            conn.request("POST", request.path, body=request.body, headers=headers[request.token])
            response = conn.getresponse()
            body = response.read()
            if response.will_close:
                conn.close()  # gunicorn's sync workers close every connection; reconnect next time
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            result.socket_errors += 1
            failures.add()
            result.failures.append(f"{request.kind}: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - began
        result.statuses[response.status] += 1
        refused = batch_refusals(body) if request.path == BATCH_PATH and response.status == 200 else []
        if 200 <= response.status < 300 and not refused:
            result.latencies.append((request.kind, elapsed))
            result.finished.append(time.monotonic())
            result.events += request.events
        elif refused:
            failures.add()
            result.failures.extend(refused[: max(0, SHOW_FAILURES - len(result.failures))])
        else:
            failures.add()
            if len(result.failures) < SHOW_FAILURES:
                result.failures.append(
                    f"{request.kind} -> {response.status}: "
                    f"{body.decode('utf-8', 'replace')[:800]}\n  sent: "
                    f"{request.body.decode()[:400]}"
                )
    conn.close()


def warm_up(port: int, setup: Setup, workers: int) -> None:
    """Load each worker's code paths with reads (no events): a few code look-ups."""
    headers = {"Authorization": f"Bearer {setup.producer_token}"}
    for _ in range(10 * workers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/api/v1/codes/{setup.certificates[0][1]}", headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            raise die(f"warm-up: GET /api/v1/codes answered {response.status}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class ApiRun:
    events: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    failures: list[str]
    failed: int
    per_kind: dict[str, dict[str, float]]
    deciles: list[float]
    worker_cpu_s: float
    postgres_cpu_s: float
    bench_cpu_s: float
    host_busy: float
    host_busy_cpu_s: float

    @property
    def other_cpu_s(self) -> float:
        """Busy CPU seconds of everything else on the host (other jobs, the kernel)."""
        return self.host_busy_cpu_s - self.worker_cpu_s - self.postgres_cpu_s - self.bench_cpu_s

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Analyzer:
    """Stands in for autovacuum's ANALYZE when the server runs without autovacuum.

    The tables start empty; without fresh statistics the planner keeps the plans it picks for
    empty tables (an index on ``org_id`` alone for the idempotency look-up, sequential scans of
    ``event_items``), whose cost grows with every event recorded. Autovacuum would re-analyze a
    table after 10 % of it changed; this does it every ``every`` seconds instead.
    """

    TABLES = "events, event_items, holding_changes, temperature_readings, holdings"

    def __init__(self, engine: sa.Engine, every: float):
        self.engine, self.every, self.count, self.seconds = engine, every, 0, 0.0
        self.due = time.monotonic() + every

    def maybe(self) -> None:
        if self.every and time.monotonic() >= self.due:
            began = time.monotonic()
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"ANALYZE {self.TABLES}")
            self.count += 1
            self.seconds += time.monotonic() - began
            self.due = time.monotonic() + self.every


def run_api(server: Server, setup: Setup, plan: list[list[Request]], analyzer: Analyzer) -> ApiRun:
    results = [ClientResult() for _ in plan]
    failures = Failures()
    barrier = threading.Barrier(len(plan) + 1)
    threads = [
        threading.Thread(
            target=client,
            daemon=True,
            args=(
                server.port,
                (setup.producer_token, setup.market_token),
                requests,
                result,
                failures,
                barrier,
            ),
        )
        for requests, result in zip(plan, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    workers = server.worker_pids()
    cpu0, pg0 = cpu_times(workers), cpu_times(postgres_pids())
    bench0, host0 = time.process_time(), host_busy_jiffies()
    total = sum(r.events for requests in plan for r in requests)
    barrier.wait()
    began = time.monotonic()
    progress_at = began
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(timeout=1)
        analyzer.maybe()
        if time.monotonic() - progress_at >= 30:
            progress_at = time.monotonic()
            done = sum(r.events for r in results)
            print(
                f"  ... {done:,}/{total:,} events in {progress_at - began:.0f} s "
                f"({done / (progress_at - began):.0f}/s)",
                flush=True,
            )
    seconds = time.monotonic() - began
    host1 = host_busy_jiffies()
    worker_cpu, pg_cpu = cpu_used(cpu0, cpu_times(workers)), cpu_used(pg0, cpu_times(postgres_pids()))
    latencies = [lat for r in results for lat in r.latencies]
    finished = sorted(t for r in results for t in r.finished)
    per_kind: dict[str, dict[str, float]] = {}
    for kind in (*CYCLE, "batch"):
        values = [s for k, s in latencies if k == kind]
        if values:
            per_kind[kind] = {
                "count": len(values),
                "mean_ms": 1000 * sum(values) / len(values),
                "p50_ms": 1000 * percentile(values, 50),
                "p99_ms": 1000 * percentile(values, 99),
            }
    deciles = []  # events/s within each tenth of the run's events, to show any slow-down
    tenth = max(1, len(finished) // 10)
    previous = began
    for i in range(tenth - 1, len(finished), tenth):
        deciles.append(tenth / max(finished[i] - previous, 1e-9))
        previous = finished[i]
    statuses: Counter[int] = Counter()
    for r in results:
        statuses.update(r.statuses)
    values = [s for _k, s in latencies]
    return ApiRun(
        events=sum(r.events for r in results),
        seconds=seconds,
        p50_ms=1000 * percentile(values, 50),
        p99_ms=1000 * percentile(values, 99),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        failures=[f for r in results for f in r.failures][:SHOW_FAILURES],
        failed=failures.count,
        per_kind=per_kind,
        deciles=deciles[:10],
        worker_cpu_s=worker_cpu,
        postgres_cpu_s=pg_cpu,
        bench_cpu_s=time.process_time() - bench0,
        host_busy=(host1[0] - host0[0]) / max(host1[1] - host0[1], 1),
        host_busy_cpu_s=(host1[0] - host0[0]) / os.sysconf("SC_CLK_TCK"),
    )


# --- checks ---------------------------------------------------------------------------------


def tables() -> dict[str, sa.Table]:
    from traceapp.events.models import Event, EventItem, HoldingChange, TemperatureReading

    return {
        "events": Event.__table__,
        "event_items": EventItem.__table__,
        "holding_changes": HoldingChange.__table__,
        "temperature_readings": TemperatureReading.__table__,
    }


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.scalar(sa.select(sa.func.count()).select_from(t)) for name, t in tables().items()}


def check_after_api(engine: sa.Engine, expected: Counter[str] | None) -> list[str]:
    """Problems found: event counts per kind, negative holdings, holdings vs issue + ledger."""
    from traceapp.certificates.models import Certificate, Holding
    from traceapp.events.models import Event, HoldingChange

    problems = []
    with engine.connect() as conn:
        kinds = {
            k.value: n for k, n in conn.execute(sa.select(Event.kind, sa.func.count()).group_by(Event.kind))
        }
        if expected is not None and kinds != dict(expected):
            problems.append(f"events per kind {kinds} != sent {dict(expected)}")
        negative = conn.scalar(sa.select(sa.func.count()).select_from(Holding).where(Holding.quantity < 0))
        if negative:
            problems.append(f"{negative} negative holdings")
        issued = {
            (c, o): q
            for c, o, q in conn.execute(sa.select(Certificate.id, Certificate.org_id, Certificate.quantity))
        }
        ledger: dict[tuple[Any, Any, Any], Decimal] = {}
        key = (HoldingChange.certificate_id, HoldingChange.org_id, HoldingChange.state)
        for c, o, s, d in conn.execute(sa.select(*key, sa.func.sum(HoldingChange.delta)).group_by(*key)):
            ledger[(c, o, s)] = d  # summed as integer thousandths, typed back as a Quantity
        mismatched = 0
        holdings = list(
            conn.execute(sa.select(Holding.certificate_id, Holding.org_id, Holding.state, Holding.quantity))
        )
        for c, o, s, q in holdings:
            start = issued.get((c, o), Decimal(0)) if s.value == "on_hand" else Decimal(0)
            if q != start + ledger.pop((c, o, s), Decimal(0)):
                mismatched += 1
        if mismatched or ledger:
            problems.append(
                f"{mismatched} holdings differ from issue + ledger; "
                f"{len(ledger)} ledger keys without a holding"
            )
    return problems


# --- the bare Core baseline -----------------------------------------------------------------


@dataclass
class BareRun:
    events: int
    rows: dict[str, int]
    seconds: float
    read_seconds: float
    bench_cpu_s: float
    postgres_cpu_s: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def event_ids(engine: sa.Engine) -> set[Any]:
    """Ids of every event in the database (to tell a run's events from those before it)."""
    with engine.connect() as conn:
        return set(conn.scalars(sa.select(tables()["events"].c.id)))


def run_bare(engine: sa.Engine, batch: int, only: set[Any] | None = None) -> BareRun:
    """Re-insert the rows the API wrote (those of the events in ``only``, else all), under new ids,
    with Core executemany; time the inserts. The copies are deleted afterwards (untimed), so
    the ledger still matches the holdings and later runs find the data they would have."""
    t = tables()
    ev, items = t["events"], t["event_items"]
    changes, readings = t["holding_changes"], t["temperature_readings"]
    read_began = time.monotonic()
    with engine.connect() as conn:
        events = [
            dict(r._mapping)
            for r in conn.execute(sa.select(ev).order_by(ev.c.recorded_at, ev.c.id))
            if only is None or r.id in only
        ]
        children: dict[str, dict[Any, list[dict[str, Any]]]] = {}
        for name, table in (
            ("event_items", items),
            ("holding_changes", changes),
            ("temperature_readings", readings),
        ):
            grouped: dict[Any, list[dict[str, Any]]] = {}
            for r in conn.execute(sa.select(table)):
                row = dict(r._mapping)
                if only is None or row["event_id"] in only:
                    grouped.setdefault(row["event_id"], []).append(row)
            children[name] = grouped
    new_id = {e["id"]: uuid.uuid4() for e in events}
    batches = []
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        rows: dict[str, list[dict[str, Any]]] = {
            "events": [],
            "event_items": [],
            "holding_changes": [],
            "temperature_readings": [],
        }
        for e in chunk:
            old = e["id"]
            rows["events"].append(
                {
                    **e,
                    "id": new_id[old],
                    "client_event_id": uuid.uuid4(),
                    "answers_id": new_id.get(e["answers_id"]) if e["answers_id"] else None,
                    "corrects_id": new_id.get(e["corrects_id"]) if e["corrects_id"] else None,
                }
            )
            for name in ("event_items", "holding_changes", "temperature_readings"):
                rows[name].extend({**c, "event_id": new_id[old]} for c in children[name].get(old, ()))
        batches.append(rows)
    read_seconds = time.monotonic() - read_began
    counts = {name: sum(len(b[name]) for b in batches) for name in t}
    pg0, bench0 = cpu_times(postgres_pids()), time.process_time()
    began = time.monotonic()
    with engine.connect() as conn:
        for rows in batches:
            with conn.begin():
                for name, table in t.items():  # events first: the children reference them
                    if rows[name]:
                        conn.execute(table.insert(), rows[name])
    seconds = time.monotonic() - began
    bench_cpu, pg_cpu = time.process_time() - bench0, cpu_used(pg0, cpu_times(postgres_pids()))
    copies = list(new_id.values())
    chunks = [copies[start : start + 5000] for start in range(0, len(copies), 5000)]
    with engine.begin() as conn:
        for name, table in t.items():
            if name != "events":
                for chunk in chunks:
                    conn.execute(table.delete().where(table.c.event_id.in_(chunk)))
        for chunk in reversed(chunks):  # a copy names earlier ones (answers_id): the later go first
            conn.execute(ev.delete().where(ev.c.id.in_(chunk)))
    return BareRun(len(events), counts, seconds, read_seconds, bench_cpu, pg_cpu)


# --- statements per event, history ----------------------------------------------------------


def statements_per_kind(app: Any, setup: Setup, rng: random.Random, first_round: int) -> dict[str, Any]:
    """SQL statements per event: one round of every kind through ``POST /api/v1/events``
    in-process (``app.test_client()``), then the same shapes as one batch of each token; the
    answer of each request is checked (2xx, every batch outcome 201)."""
    engine = app.extensions["traceapp.db"].engine
    client_ = app.test_client()
    tokens = (setup.producer_token, setup.market_token)
    category = {code: PRODUCTS[i % len(PRODUCTS)][1] for i, (_id, code, _u) in enumerate(setup.certificates)}
    counted: Counter[str] = Counter()
    control: Counter[str] = Counter()  # BEGIN, SAVEPOINT, RELEASE, COMMIT, ROLLBACK
    current = [""]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted[current[0]] += 1
        if statement.lstrip().upper().startswith(CONTROL):
            control[current[0]] += 1

    def rounds(round_no: int, n: int) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for index, (_id, code, _u) in enumerate(setup.certificates[:n]):
            for token, body in cycle_bodies(rng, setup, index, code, category[code], round_no):
                body["event_id"] = str(uuid.uuid4())
                out.append((token, body))
        return out

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        sent: Counter[str] = Counter()
        for token, body in rounds(first_round, 2):
            current[0] = body["kind"]
            sent[body["kind"]] += 1
            answer = client_.post(
                SINGLE_PATH, json=body, headers={"Authorization": f"Bearer {tokens[token]}"}
            )
            if answer.status_code >= 300:
                raise die(
                    f"statement count: {body['kind']} answered {answer.status_code}: {answer.text[:300]}"
                )
        single = {kind: counted[kind] / n for kind, n in sent.items()}
        work = {kind: (counted[kind] - control[kind]) / n for kind, n in sent.items()}
        batched = rounds(first_round + 1, 20)
        for token in (PRODUCER, MARKET):
            events = [body for t, body in batched if t == token]
            current[0] = f"batch {token}"
            answer = client_.post(
                BATCH_PATH, json={"events": events}, headers={"Authorization": f"Bearer {tokens[token]}"}
            )
            refused = batch_refusals(answer.data) if answer.status_code == 200 else [answer.text[:300]]
            if refused:
                raise die(f"statement count: batch answered {answer.status_code}: {refused[:2]}")
        batch = (counted["batch 0"] + counted["batch 1"]) / len(batched)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return {
        "single": single,
        "work": work,
        "batch_per_event": batch,
        "batch_events": len(batched),
        "sent": dict(sent),
    }


#: Transaction control: sent to the database, but no work of the event's own.
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


def add_history(engine: sa.Engine, scale: int) -> tuple[int, int]:
    """Copy every event (with its items and readings, new ids and client event ids) until the
    database holds ``scale`` times as many; (before, after). Ledger rows are not copied, so the
    holdings still equal issue + ledger; the copies are an older history the queries must skip."""
    t = tables()
    ev, children = t["events"], (t["event_items"], t["temperature_readings"])
    with engine.connect() as conn:
        # In the order they were recorded: an event's answers_id names an earlier one.
        events = [dict(r._mapping) for r in conn.execute(sa.select(ev).order_by(ev.c.recorded_at, ev.c.id))]
        rows = {table.name: [dict(r._mapping) for r in conn.execute(sa.select(table))] for table in children}
    # Their primary keys are (event_id, position): re-pointed at the copy, they are new keys.
    with engine.begin() as conn:
        for _copy in range(scale - 1):
            new_id = {e["id"]: uuid.uuid4() for e in events}
            copies = [
                {
                    **e,
                    "id": new_id[e["id"]],
                    "client_event_id": uuid.uuid4(),
                    "answers_id": new_id.get(e["answers_id"]) if e["answers_id"] else None,
                    "corrects_id": new_id.get(e["corrects_id"]) if e["corrects_id"] else None,
                }
                for e in events
            ]
            for start in range(0, len(copies), 5000):
                conn.execute(ev.insert(), copies[start : start + 5000])
            for table in children:
                copied = [{**row, "event_id": new_id[row["event_id"]]} for row in rows[table.name]]
                for start in range(0, len(copied), 5000):
                    conn.execute(table.insert(), copied[start : start + 5000])
        conn.exec_driver_sql("ANALYZE")
    return len(events), len(events) * scale


# --- profile --------------------------------------------------------------------------------


def profile(app: Any, setup: Setup, k: int, rng: random.Random) -> str:
    """Record ``k`` more events in-process via ``app.test_client()`` under cProfile."""
    client_ = app.test_client()
    tokens = (setup.producer_token, setup.market_token)
    category = {code: PRODUCTS[i % len(PRODUCTS)][1] for i, (_id, code, _u) in enumerate(setup.certificates)}
    requests: list[tuple[int, dict[str, Any]]] = []
    round_no = 10_000  # later than anything the run recorded
    while len(requests) < k:
        for index, (_id, code, _unit) in enumerate(setup.certificates):
            requests.extend(cycle_bodies(rng, setup, index, code, category[code], round_no))
        round_no += 1
    requests = requests[:k]
    for _token, body in requests:
        body["event_id"] = str(uuid.uuid4())
    engine = app.extensions["traceapp.db"].engine
    statements: Counter[str] = Counter()
    current = [""]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[current[0]] += 1
        words = statement.split(None, 1)
        statements[f"{current[0]} {words[0].upper() if words else ''}"] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits on PostgreSQL don't count
    failed = 0
    began, cpu0 = time.perf_counter(), time.process_time()
    profiler.enable()
    for token, body in requests:
        current[0] = body["kind"]
        response = client_.post(
            "/api/v1/events", json=body, headers={"Authorization": f"Bearer {tokens[token]}"}
        )
        failed += response.status_code >= 300
    profiler.disable()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu0
    sa.event.remove(engine, "before_cursor_execute", count)
    sent = Counter(body["kind"] for _t, body in requests)
    per_kind = "; ".join(
        f"{kind} {statements[kind] / n:.1f} ("
        + ", ".join(
            f"{verb.split()[1]} {statements[verb] / n:.1f}"
            for verb in sorted(statements)
            if verb.startswith(kind + " ")
        )
        + ")"
        for kind, n in sent.items()
    )
    path = OUT / "events.prof"
    profiler.dump_stats(str(path))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)
    return (
        f"in-process: {k} requests in {seconds:.2f} s wall, {cpu:.2f} s CPU, under cProfile "
        f"({k / seconds:.0f}/s), {failed} failed; CPU-time stats in {path}\n"
        f"SQL statements per request: {per_kind}\n" + text.getvalue()
    )


# --- main -----------------------------------------------------------------------------------


def code_version() -> str:
    """The commit the app was run from, and how many of its files differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "traceapp", "wsgi.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}" + (f" + {len(dirty)} uncommitted files under traceapp/" if dirty else "")


def server_version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("SHOW server_version").scalar())


def autovacuum_on(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SHOW autovacuum").scalar() == "on"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cores() -> str:
    return f"{usable_cores()} usable of {os.cpu_count()}"


@dataclass
class Phase:
    """Every figure of one run at one size of history."""

    history: int  # events in the database before the run
    single: ApiRun
    insert_app: ApiRun
    bare_single: BareRun
    batch: ApiRun | None
    bare_batch: BareRun | None
    statements: dict[str, Any]
    problems: list[str]


class Bench:
    """The database, the app, the certificates, and where the next plan's times start."""

    def __init__(
        self, args: argparse.Namespace, engine: sa.Engine, app: Any, setup: Setup, rng: random.Random
    ):
        self.args, self.engine, self.app, self.setup, self.rng = args, engine, app, setup, rng
        self.next_round = 0
        self.expected: Counter[str] = Counter()
        autovacuum = autovacuum_on(engine)
        self.analyzer = Analyzer(engine, 0 if autovacuum else args.analyze_every)
        self.autovacuum = autovacuum

    def plan(self, n: int) -> list[list[Request]]:
        plan = build_plan(self.setup, n, self.args.clients, self.rng, self.next_round)
        self.next_round += rounds_in(self.setup, n, self.args.clients)
        self.expected.update(r.kind for requests in plan for r in requests)
        return plan

    def run(self) -> Phase:
        args, engine = self.args, self.engine
        history = len(event_ids(engine))
        plan = self.plan(args.events)
        batch = bare_batch = None
        with serve(args.database_url, args.workers, args.wsgi, args.pythonpath) as server:
            warm_up(server.port, self.setup, args.workers)
            before = event_ids(engine)
            single = run_api(server, self.setup, plan, self.analyzer)
            single_ids = event_ids(engine) - before
            if args.batch and not single.failed:
                owned = len(self.setup.certificates) // args.clients
                batches = batch_plan(self.plan(args.batch_events), args.batch_size, owned)
                batch = run_api(server, self.setup, batches, self.analyzer)
                batch_ids = event_ids(engine) - before - single_ids
        with serve(args.database_url, args.workers, "insert_app:app", str(HERE)) as bare_server:
            insert_app = run_api(bare_server, self.setup, plan, Analyzer(engine, 0))
        statements = statements_per_kind(self.app, self.setup, self.rng, self.next_round)
        self.next_round += 2
        self.expected.update(statements["sent"])
        self.expected.update({kind: statements["batch_events"] // len(CYCLE) for kind in CYCLE})
        failed = [run for run in (single, batch, insert_app) if run and run.failed]
        problems = [f"{run.failed} requests failed: {run.failures[:2]}" for run in failed]
        problems += check_after_api(engine, self.expected)
        bare_single = run_bare(engine, args.bare_chunk, single_ids)
        if batch is not None:
            bare_batch = run_bare(engine, args.bare_chunk, batch_ids)
        return Phase(history, single, insert_app, bare_single, batch, bare_batch, statements, problems)

    def grow(self, scale: int) -> tuple[int, int]:
        before, after = add_history(self.engine, scale)
        self.expected = Counter({kind: n * scale for kind, n in self.expected.items()})
        return before, after


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _mark(ok: bool) -> str:
    return "PASS" if ok else "BELOW TARGET"


SHIPPING_STATEMENTS = 8  # the issue's ceiling for a shipping event
GOALS = {"single": 0.5, "batch": 0.3, "growth": 0.8}


def report(args: argparse.Namespace, phases: list[Phase], pg_version: str, code: str) -> dict[str, Any]:
    """Print every figure, one column per size of history, and the goals; return them as JSON."""
    print()
    print(
        f"machine: {platform.machine()}, {cores()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version}; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"{args.events:,} single events, {args.clients} clients, gunicorn {args.workers} sync workers "
        f"({args.wsgi}), {args.certificates} certificates; code {code}"
    )
    if args.batch:
        print(
            f"batch path: {args.batch_events:,} events in requests of up to {args.batch_size} "
            f"producer events (then 2/3 as many market ones), the same {args.clients} clients"
        )
    scales = [1, args.scale]
    labels = [f"{scales[i]}x ({p.history:,} ev)" for i, p in enumerate(phases)]
    rows: list[tuple[str, list[str], str]] = []

    def row(name: str, values: list[str], goal: str = "") -> None:
        rows.append((name, values, goal))

    ms = lambda run: 1000 * run.worker_cpu_s / max(run.events, 1)  # noqa: E731
    row("POST /api/v1/events req/s", [f"{p.single.rate:,.0f}" for p in phases])
    row("bare one-INSERT app req/s", [f"{p.insert_app.rate:,.0f}" for p in phases])
    single_ratios = [_ratio(p.single.rate, p.insert_app.rate) for p in phases]
    row(
        "ratio events / one-INSERT app",
        [f"{r:.3f}" for r in single_ratios],
        f">= {GOALS['single']}: {_mark(all(r >= GOALS['single'] for r in single_ratios))}",
    )
    row("worker CPU ms/req: events / bare", [f"{ms(p.single):.2f} / {ms(p.insert_app):.2f}" for p in phases])
    row("p50 / p99 ms: events", [f"{p.single.p50_ms:.1f} / {p.single.p99_ms:.1f}" for p in phases])
    row("bare Core executemany events/s", [f"{p.bare_single.rate:,.0f}" for p in phases])
    row(
        "ratio single events / executemany",
        [f"{_ratio(p.single.rate, p.bare_single.rate):.4f}" for p in phases],
    )
    if all(p.batch and p.bare_batch for p in phases):
        batch_ratios = [_ratio(p.batch.rate, p.bare_batch.rate) for p in phases]  # type: ignore[union-attr]
        row("batch path events/s", [f"{p.batch.rate:,.0f}" for p in phases])  # type: ignore[union-attr]
        row("executemany of the same rows events/s", [f"{p.bare_batch.rate:,.0f}" for p in phases])  # type: ignore[union-attr]
        row(
            "ratio batch / executemany",
            [f"{r:.3f}" for r in batch_ratios],
            f">= {GOALS['batch']}: {_mark(all(r >= GOALS['batch'] for r in batch_ratios))}",
        )
        row("batch request p50 / p99 ms", [f"{p.batch.p50_ms:.0f} / {p.batch.p99_ms:.0f}" for p in phases])  # type: ignore[union-attr]
    for kind in CYCLE:
        nan = float("nan")
        values = [
            f"{p.statements['single'].get(kind, nan):.0f} ({p.statements['work'].get(kind, nan):.0f})"
            for p in phases
        ]
        goal = ""
        if kind == "shipping":
            ok = all(p.statements["work"].get(kind, 99) <= SHIPPING_STATEMENTS for p in phases)
            goal = f"<= {SHIPPING_STATEMENTS} without transaction control: {_mark(ok)}"
        row(f"SQL statements per {kind} (without BEGIN/SAVEPOINT/RELEASE/COMMIT)", values, goal)
    row("SQL statements per event, batch path", [f"{p.statements['batch_per_event']:.1f}" for p in phases])
    if len(phases) > 1:
        first, last = phases[0], phases[-1]
        growth = [("single req/s", _ratio(last.single.rate, first.single.rate))]
        if first.batch and last.batch:
            growth.append(("batch events/s", _ratio(last.batch.rate, first.batch.rate)))
        for name, value in growth:
            row(
                f"{name} at {args.scale}x / 1x history",
                ["", f"{value:.2f}"],
                f">= {GOALS['growth']}: {_mark(value >= GOALS['growth'])}",
            )
    width = max(len(name) for name, _v, _g in rows)
    columns = max(len(v) for _n, values, _g in rows for v in values + labels) + 2
    print()
    print(f"{'':{width}}" + "".join(f"{label:>{columns}}" for label in labels) + "   goal")
    for name, values, goal in rows:
        print(f"{name:{width}}" + "".join(f"{v:>{columns}}" for v in values) + (f"   {goal}" if goal else ""))
    for p in phases:
        print(
            f"history {p.history:,}: statuses {p.single.statuses}"
            + (f", batch {p.batch.statuses}" if p.batch else "")
            + f"; checks: {'all held' if not p.problems else '; '.join(p.problems)}"
        )
    return {
        "args": vars(args),
        "machine": {"cores": cores(), "arch": platform.machine(), "python": platform.python_version()},
        "postgresql": pg_version,
        "code": code,
        "phases": [
            {
                "history": p.history,
                "single": {**p.single.__dict__, "events_per_s": p.single.rate},
                "insert_app": {**p.insert_app.__dict__, "events_per_s": p.insert_app.rate},
                "bare_single": {**p.bare_single.__dict__, "events_per_s": p.bare_single.rate},
                "batch": {**p.batch.__dict__, "events_per_s": p.batch.rate} if p.batch else None,
                "bare_batch": {**p.bare_batch.__dict__, "events_per_s": p.bare_batch.rate}
                if p.bare_batch
                else None,
                "statements": p.statements,
                "problems": p.problems,
            }
            for p in phases
        ],
    }


BARE_TABLE = """CREATE TABLE IF NOT EXISTS bench_bare_events (
    id uuid PRIMARY KEY, event_id varchar(64), kind varchar(40), body json, recorded_at timestamptz
)"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    code = code_version()  # before the run: others may commit while it runs
    from traceapp.db import make_engine
    from traceapp.migrate import upgrade

    print(
        f"database {sa.make_url(args.database_url).render_as_string(hide_password=True)}: re-creating",
        flush=True,
    )
    recreate_database(args.database_url)
    engine = make_engine(args.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(BARE_TABLE)  # the baseline app's one table, outside our schema
    pg_version = server_version(engine)
    app = make_app(args.database_url)
    began = time.monotonic()
    setup = seed(app, args.certificates, rng)
    bench = Bench(args, engine, app, setup, rng)
    if not bench.autovacuum:
        print(
            "autovacuum is off on this server: "
            + (
                f"the bench runs ANALYZE on the event tables every {args.analyze_every:g} s"
                if args.analyze_every
                else "tables will keep the statistics of empty tables"
            ),
            flush=True,
        )
    print(f"set up {args.certificates} certificates in {time.monotonic() - began:.1f} s", flush=True)
    phases = [bench.run()]
    print(f"1x done: {phases[0].single.rate:.0f} req/s single", flush=True)
    if args.scale > 1 and not phases[0].problems:
        before, after = bench.grow(args.scale)
        print(f"history: {before:,} events copied to {after:,}", flush=True)
        phases.append(bench.run())
    document = report(args, phases, pg_version, code)
    (OUT / "events.json").write_text(json.dumps(document, indent=2, default=str))
    if args.profile:
        print()
        print(profile(app, setup, args.profile, rng))
    engine.dispose()
    return 1 if any(p.problems for p in phases) else 0


if __name__ == "__main__":
    sys.exit(main())
