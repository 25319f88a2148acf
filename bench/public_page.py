"""Throughput of the public page ``GET /t/{code}`` against a bare Flask "hello" app.

With N certificates in the database (default 100,000), both apps are served in turn by the same
gunicorn command line (sync workers, ``--workers 2``, bound to 127.0.0.1, no access log) and
loaded with C concurrent connections, each request on a random trace code. Prints requests/s,
p50/p99 latency and errors of both, and the ratio public/bare. Target: >= 60 %.

    python bench/public_page.py                              # SQLite file in bench/out/
    python bench/public_page.py --reuse --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_public

Exit status: 0 when every run had at most 1 % errors (whether or not the target is met), 1 when
a run had more, 2 for a setup failure (seeding, the pre-check of codes, a server not starting).

Load only ever goes to 127.0.0.1, for a bounded time (warm-up + duration per app).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DEFAULT_SQLITE = OUT / "public_page.sqlite3"
TARGET_RATIO = 0.60
MAX_ERROR_RATE = 0.01
SERVICE_SAMPLE = 100  # certificates issued through the real service before the bulk insert
CHUNK = 5000

# Produce, with the category and unit it is sold in: (name, category, unit).
PRODUCTS = [
    ("大白菜", "vegetable", "kg"), ("西兰花", "vegetable", "kg"), ("红富士苹果", "fruit", "box"),
    ("土鸡蛋", "egg", "box"), ("草鱼", "aquatic", "kg"), ("香菇", "edible_fungus", "jin"),
    ("明前龙井", "tea", "jin"), ("黑猪肉", "livestock", "kg"),
]
ORGS = [  # producers: (name, region code, phone)
    ("武汉木兰蔬菜专业合作社", "420116", "13812345678"),
    ("杭州西湖龙井茶叶合作社", "330106", "0571-87654321"),
    ("成都锦江生态农场", "510104", None),
    ("济南历下禽蛋专业合作社", "370102", "+8613900001111"),
]
ORIGINS = ["420116", "420115", "420111", "330106", "330110", "510104", "370102", "440106",
           "320106", "350102", "610113"]


class SetupFailure(SystemExit):
    """A failure before or around the load (seeding, pre-check, servers): exit status 2."""


def die(message: str) -> SetupFailure:
    print(f"public_page: {message}", file=sys.stderr)
    return SetupFailure(2)


# --- options --------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=f"sqlite:///{DEFAULT_SQLITE}",
                   help="SQLAlchemy URL (default: a SQLite file in bench/out/)")
    p.add_argument("--certificates", type=int, default=100_000, metavar="N")
    p.add_argument("--duration", type=float, default=20, metavar="S", help="seconds per app")
    p.add_argument("--warmup", type=float, default=3, metavar="S",
                   help="seconds of unmeasured load before each run (default 3)")
    p.add_argument("--concurrency", type=int, default=32, metavar="C")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=1,
                   help="alternate bare/public runs this many times; report each app's best")
    p.add_argument("--threads", type=int, default=1,
                   help="wrk threads (default 1: the generator shares the 2 cores)")
    p.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                   help="load generator: wrk if installed (auto), else Python threads")
    p.add_argument("--reuse", action="store_true",
                   help="don't re-seed when the database already holds N certificates")
    p.add_argument("--json", type=Path, default=None,
                   help="also write the results here (default bench/out/public_page-<db>.json)")
    args = p.parse_args(argv)
    if args.certificates < SERVICE_SAMPLE + 1:
        p.error(f"--certificates must be more than {SERVICE_SAMPLE}")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        p.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if not 1 <= args.concurrency <= 1000 or not 1 <= args.workers <= 16:
        p.error("--concurrency must be 1..1000 and --workers 1..16")
    if not 1 <= args.rounds <= 10:
        p.error("--rounds must be 1..10")
    return args


# --- database: create, wipe, seed -----------------------------------------------------------

def backend(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


def is_scratch(url: str) -> bool:
    """Whether the bench may wipe this database: a file under bench/out/, or a bench* database."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        return bool(u.database) and Path(u.database).resolve().is_relative_to(OUT.resolve())
    return (u.database or "").startswith("bench")


def ensure_database(url: str) -> None:
    """Create the SQLite folder, or the PostgreSQL database if it does not exist yet."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database:
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        return
    if u.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": u.database})
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
                print(f"created database {u.database}")
    finally:
        admin.dispose()


def count_certificates(url: str) -> int | None:
    """How many certificates the database holds; None if it has no certificates table."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("certificates"):
                return None
            return conn.scalar(sa.text("SELECT count(*) FROM certificates"))
    finally:
        engine.dispose()


def wipe(url: str) -> None:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{u.database}{suffix}").unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if u.get_backend_name() == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            else:
                raise die(f"cannot wipe a {u.get_backend_name()} database: SQLite or PostgreSQL")
    finally:
        engine.dispose()


def make_app(url: str) -> Any:
    from traceapp import create_app
    return create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)})


def sample_data(rng: random.Random, index: int, product: tuple[str, str, str]) -> dict[str, Any]:
    """A validated ``CertificateIn`` data dict, as the API and the form hand to the service."""
    from traceapp.certificates.models import Basis, Category, Commitment, Unit

    name, category, unit = product
    basis = rng.sample(list(Basis), rng.choice([1, 1, 2]))
    data: dict[str, Any] = {
        "product_name": name, "unit": Unit(unit),
        "quantity": Decimal(rng.randrange(1, 50_000)) / rng.choice([1, 10, 1000]),
        "origin": {"region_code": rng.choice(ORIGINS),
                   "address": rng.choice([None, "木兰乡双河村", "三组", "东区大棚 7 号"])},
        "harvest_date": date(2026, 11, 20) - timedelta(days=rng.randrange(0, 90)),
        "commitments": list(Commitment), "basis": basis,
    }
    # The first issue of each (organisation, product) names its category; a third of later
    # ones leave it out, and the service takes it from the organisation's product list.
    if index < len(ORGS) * len(PRODUCTS) or index % 3:
        data["category"] = Category(category)
    if rng.random() < 0.5:
        data["batch_no"] = f"B{rng.randrange(10**6):06d}"
    if Basis.COMMISSIONED_TEST in basis:
        data["test_report"] = {"lab_name": "武汉市农产品质量安全检测中心",
                               "report_number": f"WH-2026-{rng.randrange(10**4):04d}"}
    if rng.random() < 0.1:
        data["producer"] = {"name": "张三家庭农场", "phone": "13698765432"}
    return data


def issue_sample(app: Any) -> list[str]:
    """Issue SERVICE_SAMPLE certificates through the real services; return their codes.

    Four producers (``create_organisation``, ``create_user``) issue them with
    ``issue_certificate``, which also builds each organisation's product list and writes
    whatever else issuing writes; every 25th is revoked with ``revoke_certificate``.
    """
    from traceapp import db
    from traceapp.certificates import services as certificates
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role

    rng = random.Random(20261126)
    issued: list[str] = []
    with app.test_request_context():
        actors = []
        with db.transaction() as session:
            for i, (name, region, phone) in enumerate(ORGS):
                org = orgs.create_organisation(session, kind=OrgKind.PRODUCER, name=name,
                                               region_code=region, phone=phone)
                user = orgs.create_user(session, org_id=org.id, email=f"bench{i}@bench.traceapp",
                                        password=secrets.token_hex(8), role=Role.ADMIN)
                actors.append(orgs.Actor.of(user))
        with db.transaction() as session:
            for i in range(SERVICE_SAMPLE):
                actor = actors[i % len(actors)]  # the first 32 cover every organisation × product
                product = PRODUCTS[(i // len(actors)) % len(PRODUCTS)]
                cert, _created = certificates.issue_certificate(
                    session, actor, data=sample_data(rng, i, product))
                issued.append(cert.trace_code)
                if i % 25 == 24:
                    certificates.revoke_certificate(session, actor, certificate_id=cert.id,
                                                    reason="批次召回：抽检不合格")
    return issued


def dependents(certificates: sa.Table,
               existing: set[str]) -> list[tuple[sa.Table, list[sa.Column[Any]]]]:
    """Tables with rows that point at a certificate (e.g. holdings), and their pointing columns.

    Only tables the database has (``existing``): a model may run ahead of its migration.
    """
    out = []
    for table in certificates.metadata.sorted_tables:
        if table is certificates or table.name not in existing:
            continue
        columns = [c for c in table.columns
                   if any(fk.column is certificates.c.id for fk in c.foreign_keys)]
        if columns:
            out.append((table, columns))
    return out


def seed(url: str, n: int) -> str:
    """Fill an empty, migrated database with ``n`` certificates.

    The first SERVICE_SAMPLE are issued through the real service (``issue_sample``). The rest
    are bulk-inserted with SQLAlchemy Core, ``insert(Certificate.__table__)`` executemany in
    chunks of CHUNK, each row a copy of a service-made row with a new id, a new trace code from
    ``codes.mint_trace_code()`` and a new issue time (revocation moved along): so every bulk row
    has the service's shape by construction, whatever columns the model grows. Rows that issuing
    writes in tables pointing at the certificate (holdings, ...) are copied along, re-pointed at
    the new certificate, with fresh generated primary keys.
    """
    from traceapp import codes
    from traceapp.certificates.models import Certificate

    app = make_app(url)
    table = Certificate.__table__
    started = time.perf_counter()
    sample_codes = issue_sample(app)
    service_s = time.perf_counter() - started

    started = time.perf_counter()
    rng = random.Random(7)
    engine = app.extensions["traceapp.db"].engine
    with engine.connect() as conn:
        deps = dependents(table, set(sa.inspect(conn).get_table_names()))
        templates = [r._asdict() for r in conn.execute(
            sa.select(table).where(table.c.trace_code.in_(sample_codes)))]
        children = {
            (dep.name, row_id): [r._asdict() for r in conn.execute(
                sa.select(dep).where(sa.or_(*(c == row_id for c in cols))))]
            for dep, cols in deps for row_id in (t["id"] for t in templates)}
    minted = set(sample_codes)
    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    with engine.begin() as conn:
        remaining = n - SERVICE_SAMPLE
        while remaining > 0:
            rows: list[dict[str, Any]] = []
            child_rows: dict[str, list[dict[str, Any]]] = {dep.name: [] for dep, _ in deps}
            for k in range(min(CHUNK, remaining)):
                template = templates[(remaining - k) % len(templates)]
                code = codes.mint_trace_code()
                while code in minted:  # 2**65 codes: never in practice
                    code = codes.mint_trace_code()
                minted.add(code)
                row = dict(template, id=uuid.uuid4(), trace_code=code,
                           issued_at=now - timedelta(seconds=rng.randrange(365 * 24 * 3600)))
                if template.get("revoked_at"):
                    row["revoked_at"] = row["issued_at"] + (template["revoked_at"]
                                                            - template["issued_at"])
                rows.append(row)
                for dep, cols in deps:
                    for child in children[dep.name, template["id"]]:
                        copy = dict(child)
                        for c in dep.primary_key.columns:
                            if c not in cols and c.default is not None and c.default.is_callable:
                                copy[c.key] = c.default.arg(None)
                        copy.update({c.key: row["id"] for c in cols
                                     if child[c.key] == template["id"]})
                        child_rows[dep.name].append(copy)
            conn.execute(sa.insert(table), rows)
            for dep, _cols in deps:
                if child_rows[dep.name]:
                    conn.execute(sa.insert(dep), child_rows[dep.name])
            remaining -= len(rows)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    copied = "".join(f", {dep.name} copied along" for dep, _ in deps
                     if any(children[dep.name, t["id"]] for t in templates))
    note = (f"seeded now: {SERVICE_SAMPLE} through issue_certificate in {service_s:.1f} s, "
            f"{n - SERVICE_SAMPLE} bulk-inserted as copies in "
            f"{time.perf_counter() - started:.1f} s{copied}")
    print(note)
    return note


def code_head() -> str | None:
    """The newest migration revision in the code."""
    from alembic.script import ScriptDirectory

    from traceapp import migrate
    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def db_revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def prepare_database(url: str, n: int, reuse: bool) -> str:
    """Make the database hold exactly ``n`` bench certificates; say what was done."""
    from traceapp import migrate

    ensure_database(url)
    have = count_certificates(url)
    head = code_head()
    if reuse and have == n and db_revision(url) == head:
        return f"reused: {n} certificates at migration {head}"
    if have is not None:
        if not is_scratch(url):
            raise die(
                f"{url} already has a certificates table ({have} rows) and is not a bench "
                f"database (a file under bench/out/ or a database named bench*): refusing to wipe")
        wipe(url)
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return seed(url, n)


def dump_codes(url: str, path: Path) -> list[tuple[str, str]]:
    """Write every trace code to ``path`` (one a line); return (code, product name) pairs."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = [(r[0], r[1]) for r in conn.execute(
                sa.text("SELECT trace_code, product_name FROM certificates"))]
    finally:
        engine.dispose()
    path.write_text("".join(code + "\n" for code, _ in rows))
    return rows


# --- servers --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    command: list[str]

    def worker_pids(self) -> list[str]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return path.read_text().split()
        except OSError:
            return []

    def worker_count(self) -> int:
        return len(self.worker_pids())

    def worker_cpu_seconds(self) -> float:
        """User + system CPU time of the gunicorn workers (children of the master) so far."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        try:
            for pid in self.worker_pids():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            return float("nan")
        return total


def gunicorn_command(app_spec: str, chdir: Path, port: int, workers: int, log: Path) -> list[str]:
    """The one gunicorn command line both apps run under; only the app differs."""
    # No --access-logfile: gunicorn writes no access log unless asked (same for both).
    return [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning",
            "--error-logfile", str(log), app_spec]


@contextmanager
def serve(name: str, app_spec: str, chdir: Path, workers: int, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    log = OUT / f"gunicorn-{name}.log"
    command = gunicorn_command(app_spec, chdir, port, workers, log)
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(name, process, port, command)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise die(f"gunicorn for {name} exited ({process.returncode}); see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise die(f"gunicorn for {name} did not answer in 60 s; see {log}")
            time.sleep(0.2)
        # Each worker imports the app after the fork: wait until the workers are all there and
        # idle (their CPU time stops growing), at most 20 s.
        settle = time.monotonic() + 20
        last = server.worker_cpu_seconds()
        while time.monotonic() < settle:
            time.sleep(0.5)
            now = server.worker_cpu_seconds()
            if server.worker_count() >= workers and now - last < 0.02:
                break
            last = now
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def precheck(server: Server, sample: list[tuple[str, str]]) -> None:
    """Random codes must answer 200 with their product name: never benchmark 404s."""
    for code, product in sample:
        url = f"http://127.0.0.1:{server.port}/t/{code}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read().decode("utf-8")
                status = r.status
        except urllib.error.HTTPError as e:
            raise die(f"pre-check: {url} answered {e.code}") from e
        if status != 200 or html.escape(product) not in body:
            raise die(f"pre-check: {url} answered {status} without {product!r}")


def precheck_bare(server: Server, code: str) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/t/{code}", timeout=10) as r:
        if r.status != 200 or r.read() != b"hello":
            raise die("pre-check: the bare app does not answer hello")


# --- load generators ------------------------------------------------------------------------

@dataclass
class RunResult:
    app: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_s: float = float("nan")
    host_busy: float = float("nan")
    background_busy: float = float("nan")
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def error_rate(self) -> float:
        return self.errors / max(self.requests, 1)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / max(self.requests, 1)


WRK_SCRIPT = r"""
-- Generated by bench/public_page.py: GET /t/<code> on a random code of the file in args[1].
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end
function init(args)
  codes = {}
  for line in io.lines(args[1]) do codes[#codes + 1] = line end
  n = #codes
  math.randomseed(tonumber(args[2]) + thread_no * 7919)
end
function request()
  return wrk.format("GET", "/t/" .. codes[math.random(n)])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).split(" Copyright")[0].strip()


def run_wrk(server: Server, codes_file: Path, args: argparse.Namespace,
            seconds: float) -> dict[str, Any]:
    script = OUT / "random_codes.lua"
    script.write_text(WRK_SCRIPT)
    threads = min(args.threads, args.concurrency)
    command = ["wrk", "-t", str(threads), "-c", str(args.concurrency), "-d", f"{seconds:g}s",
               "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{server.port}",
               "--", str(codes_file), str(random.randrange(1, 10**6))]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or match is None:
        raise die(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    result["command"] = " ".join(command)
    return result


def run_python(server: Server, codes: list[str], args: argparse.Namespace,
               seconds: float) -> dict[str, Any]:
    """Fallback: C threads, each a keep-alive http.client connection (reopened when closed)."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"status": 0, "socket": 0}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        bad = sock = 0
        conn: HTTPConnection | None = None
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                if conn is None:
                    conn = HTTPConnection("127.0.0.1", server.port, timeout=10)
                conn.request("GET", "/t/" + rng.choice(codes))
                response = conn.getresponse()
                response.read()
                if not 200 <= response.status < 300:
                    bad += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except OSError:
                sock += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            mine.append(time.perf_counter() - start)
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            counts["status"] += bad
            counts["socket"] += sock

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6 if latencies else 0

    return {"requests": len(latencies), "duration_us": elapsed * 1e6, "status": counts["status"],
            "connect": counts["socket"], "read": 0, "write": 0, "timeout": 0,
            "p50_us": pct(0.50), "p90_us": pct(0.90), "p99_us": pct(0.99)}


def host_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    try:
        values = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def load(server: Server, generator: str, codes_file: Path, codes: list[str],
         args: argparse.Namespace) -> RunResult:
    def once(seconds: float) -> dict[str, Any]:
        if generator == "wrk":
            return run_wrk(server, codes_file, args, seconds)
        return run_python(server, codes, args, seconds)

    before = host_cpu()
    time.sleep(1.0)  # how busy the host is without our load: other jobs make the figures noisy
    after = host_cpu()
    background = (after[0] - before[0]) / max(after[1] - before[1], 1)
    if args.warmup:
        once(args.warmup)
    cpu_before, host_before = server.worker_cpu_seconds(), host_cpu()
    raw = once(args.duration)
    cpu, host_after = server.worker_cpu_seconds() - cpu_before, host_cpu()
    busy = (host_after[0] - host_before[0]) / max(host_after[1] - host_before[1], 1)
    return RunResult(
        app=server.name, requests=raw["requests"], seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000, non_2xx=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        server_cpu_s=cpu, host_busy=busy, background_busy=background, detail=raw)


# --- report ---------------------------------------------------------------------------------

def machine_facts(args: argparse.Namespace, generator: str, db_note: str) -> dict[str, str]:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    u = sa.engine.make_url(args.database_url)
    engine = sa.create_engine(args.database_url)
    try:
        with engine.connect() as conn:
            version = (conn.exec_driver_sql("SELECT sqlite_version()").scalar()
                       if u.get_backend_name() == "sqlite"
                       else conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()
    import gunicorn
    try:
        top = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if not top or Path(top).resolve() != ROOT:
            raise OSError("not a git checkout")
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "traceapp"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        head = head if len(head) <= 60 else head[:59] + "…"
        code = f"{head}{' + uncommitted changes in traceapp/' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        code = f"{ROOT} (not a git checkout)"
    return {
        "code": code,
        "cores": f"{os.cpu_count()} ({cpu})",
        "python": platform.python_version(),
        "gunicorn": f"{gunicorn.__version__}, sync workers, --workers {args.workers}",
        "database": f"{u.get_backend_name()} {version}: "
                    f"{u.render_as_string(hide_password=True)} ({db_note})",
        "certificates": f"{args.certificates:,}",
        "concurrency": f"{args.concurrency} connections",
        "duration": f"{args.duration:g} s per app after {args.warmup:g} s warm-up, "
                    f"{args.rounds} round(s)",
        "generator": (f"{wrk_version()}, {min(args.threads, args.concurrency)} thread(s)"
                      if generator == "wrk" else
                      f"python http.client, {args.concurrency} threads (bottlenecks first!)"),
    }


def report(facts: dict[str, str], results: list[RunResult],
           runs: list[RunResult]) -> tuple[str, float]:
    bare, public = results
    ratio = public.rps / bare.rps if bare.rps else 0.0
    lines = [""] + [f"{k:>13}: {v}" for k, v in facts.items()] + [""]
    head = f"{'app':<14}{'requests/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}" \
           f"{'non-2xx':>9}{'sock err':>9}{'CPU ms/req':>11}{'host busy':>10}{'idle busy':>10}"
    lines += [head, "-" * len(head)]
    for r in (public, bare):
        label = "public /t/…" if r is public else "bare hello"
        lines.append(f"{label:<14}{r.rps:>11.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.requests:>10}"
                     f"{r.non_2xx:>9}{r.socket_errors:>9}{r.cpu_ms_per_request:>11.2f}"
                     f"{r.host_busy:>10.0%}{r.background_busy:>10.0%}")
    if len(runs) > 2:
        lines += ["", "every round (the table shows each app's best):"]
        lines += [f"  {r.app:<7}{r.rps:>8.0f} requests/s  p50 {r.p50_ms:.1f} ms  p99 "
                  f"{r.p99_ms:.1f} ms  CPU {r.cpu_ms_per_request:.2f} ms/req  idle busy "
                  f"{r.background_busy:.0%}" for r in runs]
    verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
    lines += ["", f"ratio public/bare: {ratio:.1%} (target {TARGET_RATIO:.0%}): {verdict}",
              "CPU ms/req: user+system CPU of the gunicorn workers per request served;",
              "host busy: all cores, everything (workers, master, load generator) during the run;",
              "idle busy: the host in the second before the run, without our load (> 10 %: other",
              "jobs share the cores and the requests/s are noisy; CPU ms/req is not affected).",
              f"CPU-cost ratio (bare CPU ms/req / public CPU ms/req): "
              f"{bare.cpu_ms_per_request / max(public.cpu_ms_per_request, 1e-9):.1%}"]
    if any(r.background_busy > 0.10 for r in results):
        lines.append("WARNING: the host was busy before a run shown: other processes competed "
                     "for the cores (try --rounds 3).")
    return "\n".join(lines), ratio


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(exist_ok=True)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        raise die("wrk is not installed (apt-get install -y wrk)")

    url = args.database_url
    db_note = prepare_database(url, args.certificates, args.reuse)
    tag = backend(url)
    codes_file = OUT / f"codes-{tag}.txt"
    rows = dump_codes(url, codes_file)
    if len(rows) != args.certificates:
        raise die(f"the database holds {len(rows)} certificates, not {args.certificates}")
    codes = [code for code, _ in rows]
    sample = random.sample(rows, 50)

    env = dict(os.environ, TRACEAPP_DATABASE_URL=url, TRACEAPP_SECRET_KEY=secrets.token_hex(16))
    env.pop("TRACEAPP_ENV", None)
    runs: list[RunResult] = []
    commands: dict[str, str] = {}
    # Both servers stay up (an idle sync worker costs nothing) and the runs alternate, bare
    # first, so a neighbour's burst of load does not land on one app only.
    with serve("bare", "hello_app:app", HERE, args.workers, env) as bare, \
            serve("public", "wsgi:app", ROOT, args.workers, env) as public:
        precheck_bare(bare, codes[0])
        precheck(public, sample)
        print(f"pre-check: {len(sample)} random codes answer 200 with their product name")
        commands = {"bare": " ".join(bare.command), "public": " ".join(public.command)}
        for round_no in range(1, args.rounds + 1):
            for server in (bare, public):
                print(f"round {round_no}/{args.rounds}: loading {server.name} on :{server.port} "
                      f"({args.warmup:g} s warm-up + {args.duration:g} s)", flush=True)
                runs.append(load(server, generator, codes_file, codes, args))
    # Best round of each app: neighbours on the host can only slow a run down.
    results = [max((r for r in runs if r.app == name), key=lambda r: r.rps)
               for name in ("bare", "public")]

    facts = machine_facts(args, generator, db_note)
    text, ratio = report(facts, results, runs)
    print(text)
    failed = [r for r in runs if r.error_rate > MAX_ERROR_RATE]
    for r in failed:
        print(f"ERROR: {r.app}: {r.errors} errors in {r.requests} requests ({r.error_rate:.1%})")
    out = args.json or OUT / f"public_page-{tag}.json"
    out.write_text(json.dumps({
        "facts": facts, "ratio": ratio, "target": TARGET_RATIO, "commands": commands,
        "best": {r.app: r.rps for r in results},
        "runs": [asdict(r) | {"rps": r.rps, "cpu_ms_per_request": r.cpu_ms_per_request}
                 for r in runs],
    }, indent=2, ensure_ascii=False))
    print(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
