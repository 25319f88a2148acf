"""How fast the gate client answers, and how fast it empties a backlog.

One run, on a fresh SQLite database (a temporary folder, removed afterwards), or on a
PostgreSQL database given with ``--database-url`` (its name must start with ``bench``; it is
dropped and re-created):

1. Migrate the database and seed, through the real services, a producer holding N certificates
   (default 1,000, 100,000 kg each) plus U more that the gate never verifies (``--unverified``,
   default 1,000), and a market with a user and an API token.
2. Serve it with ``traceapp serve`` (gunicorn, sync workers, 127.0.0.1).
3. Latency: one ``trace-scan gate`` process (``python -m scanner_client``), fed one line at a
   time on a pipe, each line a different certificate's QR URL with ``| qty=1``. For each line
   we time, on a monotonic clock, from writing the line to reading the last row of its verdict
   box (the outbox insert, GET /api/v1/codes/{code}, the body commit and the rendering), and to
   reading its "recorded" line (plus the POST and the "sent" commit). p50, p99 and max over
   all scans (default 1,000).
4. Sync: stop the server; queue S scans (default 10,000; certificates in turn, so the cache of
   step 3 supplies every verdict and body) through ``trace-scan gate`` reading a file; start
   the server again; time ``trace-scan sync`` (pages of ``--batch`` scans, 200, each one
   ``POST /api/v1/events/batch``; a server without that path gets one POST per scan). The goal
   is under 20 s for 10,000 scans; the table says PASS or BELOW TARGET.
5. Never verified: stop the server, queue one scan of each of the U certificates the gate has
   never seen (no cached verdict, so no body yet), start it, time ``trace-scan sync``: it looks
   up each code once (``GET /api/v1/codes/{code}``, U requests) before sending the pages.
6. At 10x the data (``--scale``, 10): copy the server's events (every row pointing at an event
   along: items, ledger, readings; new ids and client event ids, Core executemany) until it
   holds SCALE times the events it held after step 4, then queue and sync S more scans as in
   step 4. Both sync figures are printed side by side; the goal is within 20 %.
7. Check that the server holds exactly one inspecting event per client event_id of the outbox
   (the copied history aside), print a table and write the figures to ``bench/out/scanner.json``.

Usage (from the repository root, with the virtualenv active)::

    python bench/scanner.py                        # 1,000 certificates and scans, 10,000 to sync
    python bench/scanner.py --quick                # 100 scans, 1,000 to sync
    python bench/scanner.py --scans 1000 --sync 10000 --workers 2
    python bench/scanner.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scanner

Exit status: 0 when every scan was recorded once; 1 when a check failed; 2 for a setup failure.
Traffic only ever goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import events as ev  # noqa: E402  (the sibling bench: its scratch-database rule)

OUT = HERE / "out"
STARTUP_SECONDS = 30.0
PUBLIC = "https://trace.example.cn"
SYNC_GOAL_S = 20.0  # for 10,000 scans; scaled for other counts
GROWTH_GOAL = 1.2  # a figure at 10x the data within 20 % of the figure at 1x
CHUNK = 5000  # rows per executemany when copying history
COPIED = ("event_items", "temperature_readings")  # copied along with each event
HISTORY = "copied history"  # the location of copied events, told apart from the gate's


class SetupFailure(SystemExit):
    """A failure before or around the measurements: exit status 2."""


def die(message: str) -> SetupFailure:
    print(f"scanner bench: {message}", file=sys.stderr)
    return SetupFailure(2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--scans", type=int, default=1000, help="scans timed one by one")
    parser.add_argument("--sync", type=int, default=10_000, help="scans queued offline, then synced")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200, help="scans per sync request (1 to 1,000)")
    parser.add_argument("--unverified", type=int, default=1000, help="scans of never-verified codes")
    parser.add_argument(
        "--scale", type=int, default=10, help="history multiple for the second sync (1: skip)"
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL database (name starting with bench)")
    parser.add_argument("--quick", action="store_true", help="100 scans, 1,000 to sync, 100 unverified")
    args = parser.parse_args(argv)
    if args.quick:
        args.certificates, args.scans, args.sync, args.unverified = 100, 100, 1000, 100
    if min(args.certificates, args.scans, args.sync, args.workers, args.unverified, args.scale) < 1:
        parser.error("every count must be positive")
    if not 1 <= args.batch <= 1000:
        parser.error("--batch is 1 to 1,000")
    return args


# -- database and server -----------------------------------------------------------------------


@dataclass
class Setup:
    market_token: str
    codes: list[str]
    unseen: list[str]


def seed(url: str, n_certificates: int, n_unseen: int = 0) -> Setup:
    """Migrate, then a producer with certificates and a market with a token, via the services."""
    from traceapp import create_app, db, migrate
    from traceapp.certificates.models import Basis, Commitment, Unit
    from traceapp.certificates.services import issue_certificate
    from traceapp.db import make_engine
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    tokens, codes = {}, []
    try:
        with app.test_request_context(), db.transaction() as session:
            for kind, name in ((OrgKind.PRODUCER, "木兰蔬菜专业合作社"), (OrgKind.MARKET, "白沙洲大市场")):
                org = orgs.create_organisation(session, kind=kind, name=name, region_code="420116")
                email = f"{kind.value}@bench.example.cn"
                user = orgs.create_user(
                    session, org_id=org.id, email=email, password="bench-password-1", role=Role.ADMIN
                )
                tokens[kind] = (user, orgs.create_api_token(session, email=email)[1])
            actor = orgs.Actor.of(tokens[OrgKind.PRODUCER][0])
            for i in range(n_certificates + n_unseen):
                certificate, _ = issue_certificate(
                    session,
                    actor,
                    data={
                        "event_id": uuid.uuid4(),
                        "product_name": "大白菜",
                        "quantity": Decimal(100_000),
                        "unit": Unit.KG,
                        "origin": {"region_code": "420116", "address": "黄陂区木兰乡"},
                        "harvest_date": date(2026, 11, 20),
                        "batch_no": f"B{i:05d}",
                        "commitments": list(Commitment),
                        "basis": [Basis.SELF_TEST],
                    },
                )
                codes.append(certificate.trace_code)
    finally:
        app.extensions["traceapp.db"].dispose()
    return Setup(tokens[OrgKind.MARKET][1], codes[:n_certificates], codes[n_certificates:])


def add_history(url: str, scale: int) -> tuple[int, int]:
    """Copy the server's events until it holds ``scale`` times as many; (before, after).

    Each copy is an event with a new id and client event id, and its items and readings with
    fresh generated keys, re-pointed at the copy: the shape the services wrote, as
    ``public_page.py`` copies journeys. Ledger rows (``holding_changes``) are not copied, so
    holdings still equal their ledgers (the gate checks synced here move no stock), nor rows
    unique per event (disputes, hand-over codes), nor stored public pages (never read here).
    """
    import sqlalchemy as sa

    from traceapp.db import Base, make_engine
    from traceapp.events.models import Event

    events = Event.__table__
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            children = [
                (table, [c for c in table.columns if any(fk.column.table is events for fk in c.foreign_keys)])
                for table in Base.metadata.sorted_tables
                if table.name in COPIED and table.name in existing
            ]
            own = [c for c in events.columns if any(fk.column.table is events for fk in c.foreign_keys)]
            originals = [row._asdict() for row in conn.execute(sa.select(events))]
            rows = {t.name: [r._asdict() for r in conn.execute(sa.select(t))] for t, _ in children}
            keys = {t.name: _generated_keys(t) for t in [events] + [t for t, _ in children]}
            for _copy in range(scale - 1):
                ids = {e["id"]: uuid.uuid4() for e in originals}
                batch = [
                    dict(
                        e,
                        id=ids[e["id"]],
                        client_event_id=uuid.uuid4() if e.get("client_event_id") else None,
                        location=HISTORY,
                        **{c.key: ids.get(e[c.key], e[c.key]) for c in own if e[c.key] is not None},
                    )
                    for e in originals
                ]
                _insert(conn, events, batch)
                for table, cols in children:
                    copies = []
                    for row in rows[table.name]:
                        out = dict(row)
                        for column in keys[table.name]:
                            out[column.key] = column.default.arg(None)
                        for column in cols:
                            if out[column.key] is not None:
                                out[column.key] = ids.get(out[column.key], out[column.key])
                        copies.append(out)
                    _insert(conn, table, copies)
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE")
        with engine.connect() as conn:
            after = int(conn.scalar(sa.select(sa.func.count()).select_from(events)) or 0)
    finally:
        engine.dispose()
    return len(originals), after


def _generated_keys(table: Any) -> list[Any]:
    """Primary-key columns the model fills in itself (a UUID id): a copy gets new ones."""
    return [
        c
        for c in table.primary_key.columns
        if not c.foreign_keys and c.default is not None and c.default.is_callable
    ]


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    import sqlalchemy as sa

    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[start : start + CHUNK])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``traceapp serve`` on a fixed port, stopped and started again for the offline phase."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.port, self.database_url, self.workers, self.log = free_port(), url, workers, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        script = Path(sys.executable).with_name("traceapp")
        command = [
            str(script) if script.exists() else "traceapp",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        env = {
            **os.environ,
            "TRACEAPP_DATABASE_URL": self.database_url,
            "TRACEAPP_SECRET_KEY": "bench",
            "TRACEAPP_PUBLIC_BASE_URL": PUBLIC,
            # A sync of 10,000 scans is one token at full speed: counted, never refused.
            "TRACEAPP_RATELIMIT_API": "1000000000 per minute",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise die(f"traceapp serve exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise die(f"traceapp serve did not answer within {STARTUP_SECONDS:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


# -- the client --------------------------------------------------------------------------------


def client_env(home: Path, server: Server, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_SCAN_")}
    return {
        **env,
        "TRACE_SCAN_HOME": str(home),
        "TRACE_SCAN_SERVER": server.url,
        "TRACE_SCAN_TOKEN": token,
        "TRACE_SCAN_GATE": "东门",
        "LANG": "en_US.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }


def read_until(stream: Any, marker: str) -> str:
    """Read lines from ``stream`` until one contains ``marker``; return that line."""
    while True:
        line = stream.readline().decode("utf-8", "replace")
        if not line:
            raise die(f"trace-scan gate ended before {marker!r}")
        if marker in line:
            return line


def time_scans(env: dict[str, str], codes: list[str], n: int) -> tuple[list[float], list[float]]:
    """Seconds from writing each line to its verdict, and to its "recorded" line."""
    gate = subprocess.Popen(
        [sys.executable, "-m", "scanner_client", "gate"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert gate.stdin is not None and gate.stdout is not None
    to_verdict, to_record = [], []
    try:
        read_until(gate.stdout, "scans waiting in the outbox")
        for i in range(n):
            started = time.perf_counter()
            gate.stdin.write(f"{PUBLIC.upper()}/T/{codes[i % len(codes)]} | qty=1\n".encode())
            gate.stdin.flush()
            read_until(gate.stdout, "┛")
            to_verdict.append(time.perf_counter() - started)
            if "recorded" not in read_until(gate.stdout, "recorded"):
                raise die("a scan was not recorded")
            to_record.append(time.perf_counter() - started)
    finally:
        gate.stdin.close()
        gate.stdout.read()
        gate.stdout.close()
        gate.wait(timeout=60)
    return to_verdict, to_record


def run_client(env: dict[str, str], *args: str, stdin: Path | None = None) -> tuple[float, str]:
    """Run ``trace-scan ARGS``; its wall time and stdout."""
    started = time.perf_counter()
    with stdin.open("rb") if stdin else open(os.devnull, "rb") as source:
        done = subprocess.run(
            [sys.executable, "-m", "scanner_client", *args],
            env=env,
            stdin=source,
            capture_output=True,
            timeout=3600,
            check=False,
        )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise die(f"trace-scan {' '.join(args)} exited {done.returncode}: {done.stdout[-500:]!r}")
    return elapsed, done.stdout.decode("utf-8", "replace")


def outbox_event_ids(home: Path) -> list[str]:
    import sqlite3

    connection = sqlite3.connect(home / "outbox.sqlite3")
    try:
        return [row[0] for row in connection.execute("SELECT event_id FROM scans WHERE state = 'sent'")]
    finally:
        connection.close()


def server_event_ids(url: str) -> Counter[str]:
    """Client event ids of the market's gate checks (copied history has fresh ones: excluded)."""
    import sqlalchemy as sa

    from traceapp.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT client_event_id FROM events WHERE kind = 'inspecting' AND location = '东门'"
            )
            return Counter(str(uuid.UUID(str(row[0]))) for row in rows)
    except sa.exc.SQLAlchemyError as error:
        raise die(f"cannot read the server's events: {error}") from error
    finally:
        engine.dispose()


# -- the run -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def queue_offline(env: dict[str, str], folder: Path, name: str, lines: list[str]) -> float:
    """Queue ``lines`` through ``trace-scan gate`` while the server is down; its wall time."""
    path = folder / f"{name}.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return run_client(env, "gate", stdin=path)[0]


def timed_sync(env: dict[str, str], batch: int) -> tuple[float, str]:
    """``trace-scan sync --batch N``: wall time and output."""
    return run_client(env, "sync", "--batch", str(batch))


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    if args.database_url:
        ev.recreate_database(args.database_url)  # the events bench's: same rule, same messages
    url = args.database_url or f"sqlite:///{folder / 'server.sqlite3'}"
    started = time.perf_counter()
    setup = seed(url, args.certificates, args.unverified)
    figures: dict[str, Any] = {"seed_s": time.perf_counter() - started, "backend": url.split(":")[0]}
    server = Server(url, args.workers, folder / "server.log")
    home = folder / "trace-scan"
    env = client_env(home, server, setup.market_token)
    queued = lambda n: [f"{setup.codes[i % len(setup.codes)]} | qty=1" for i in range(n)]  # noqa: E731
    server.start()
    try:
        verdict, recorded = time_scans(env, setup.codes, args.scans)
        figures.update(scans=args.scans, verdict=verdict, recorded=recorded)
        server.stop()
        figures["queue_s"] = queue_offline(env, folder, "offline", queued(args.sync))
        server.start()
        figures["sync_s"], figures["sync_output"] = timed_sync(env, args.batch)
        server.stop()
        unseen = [f"{code} | qty=1" for code in setup.unseen]
        figures["unverified_queue_s"] = queue_offline(env, folder, "unseen", unseen)
        server.start()
        figures["unverified_sync_s"], _ = timed_sync(env, args.batch)
        server.stop()
        if args.scale > 1:
            started = time.perf_counter()
            figures["events_before"], figures["events_after"] = add_history(url, args.scale)
            figures["history_s"] = time.perf_counter() - started
            queue_offline(env, folder, "offline-scaled", queued(args.sync))
            server.start()
            figures["scaled_sync_s"], _ = timed_sync(env, args.batch)
    finally:
        server.stop()
    sent, recorded_ids = outbox_event_ids(home), server_event_ids(url)
    expected = args.scans + args.sync * (2 if args.scale > 1 else 1) + args.unverified
    figures["sent"], figures["on_server"] = len(sent), sum(recorded_ids.values())
    figures["ok"] = (
        len(sent) == expected and set(recorded_ids.values()) == {1} and sorted(recorded_ids) == sorted(sent)
    )
    return figures


def verdict_of(ok: bool) -> str:
    return "PASS" if ok else "BELOW TARGET"


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    ms = lambda values, q: f"{percentile(values, q) * 1000:.1f} ms"  # noqa: E731
    goal = SYNC_GOAL_S * args.sync / 10_000
    rate = lambda n, s: f"{s:.1f} s ({n / s:,.0f} scans/s)"  # noqa: E731
    rows = [
        ("certificates seeded", f"{args.certificates + args.unverified:,} in {figures['seed_s']:.1f} s"),
        ("scan → verdict on screen, p50", ms(figures["verdict"], 0.5)),
        ("scan → verdict on screen, p99", ms(figures["verdict"], 0.99)),
        ("scan → verdict on screen, max", f"{max(figures['verdict']) * 1000:.1f} ms"),
        ("scan → recorded on server, p50", ms(figures["recorded"], 0.5)),
        ("scan → recorded on server, p99", ms(figures["recorded"], 0.99)),
        (f"queue {args.sync:,} scans offline", rate(args.sync, figures["queue_s"])),
        (
            f"sync {args.sync:,} queued scans (pages of {args.batch})",
            f"{rate(args.sync, figures['sync_s'])}; goal < {goal:.0f} s: "
            f"{verdict_of(figures['sync_s'] < goal)}",
        ),
        (
            f"sync {args.unverified:,} never-verified scans",
            rate(args.unverified, figures["unverified_sync_s"]) + f" ({args.unverified:,} look-ups)",
        ),
    ]
    if "scaled_sync_s" in figures:
        growth = figures["scaled_sync_s"] / figures["sync_s"]
        rows += [
            (
                f"history ×{args.scale}",
                f"{figures['events_before']:,} → {figures['events_after']:,} events "
                f"(copied in {figures['history_s']:.1f} s)",
            ),
            (
                f"sync {args.sync:,} at 1× / {args.scale}× data",
                f"{figures['sync_s']:.1f} s / {figures['scaled_sync_s']:.1f} s = {growth:.2f}; "
                f"goal ≤ {GROWTH_GOAL:.2f}: {verdict_of(growth <= GROWTH_GOAL)}",
            ),
        ]
    rows.append(
        (
            "events on the server / sent",
            f"{figures['on_server']:,} / {figures['sent']:,} "
            f"({'each once' if figures['ok'] else 'MISMATCH'})",
        )
    )
    width = max(len(name) for name, _ in rows)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\ntrace-scan bench: {args.scans:,} timed scans, {args.workers} gunicorn workers, "
        f"{figures['backend']}, {platform.python_version()} on {platform.machine()} "
        f"({os.cpu_count()} CPUs, load {load})"
    )
    print(f"{'measure':<{width}}  value\n{'-' * width}  {'-' * 28}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(figures["sync_output"].strip().splitlines()[-1] if figures["sync_output"].strip() else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))  # stop the server on the way out
    folder = Path(tempfile.mkdtemp(prefix="bench-scanner-"))
    try:
        figures = measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(args, figures)
    OUT.mkdir(exist_ok=True)
    lists = ("verdict", "recorded", "sync_output")
    summary = {key: value for key, value in figures.items() if key not in lists}
    for key in ("verdict", "recorded"):
        summary[f"{key}_ms"] = {
            q: round(percentile(figures[key], p) * 1000, 2)
            for q, p in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
        }
    (OUT / "scanner.json").write_text(json.dumps({"args": vars(args), **summary}, indent=2) + "\n")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
