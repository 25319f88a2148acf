"""Idempotent event posts under faults: nothing acknowledged is lost, nothing is recorded twice.

One run, on PostgreSQL only:

1. Drop and re-create a scratch database (its name must start with ``bench``), migrate it, and
   set it up through the real services, as ``events.py`` does: a producer and a market (users +
   API tokens), the producer holding certificates with large quantities.
2. Serve the app with gunicorn (sync workers, ``--workers 2``, 127.0.0.1) and send a bounded
   stream of N events (default 3,000) from C concurrent clients (default 4), ``events.py``'s
   journey (storing, transporting, shipping, receiving, retail selling), each with its own
   client ``event_id``. A client sends its events in order and each one until it is
   acknowledged (2xx): on a dropped connection or a 5xx it sends the very same body again,
   after ``Retry-After`` or a short backoff, up to ``--attempts`` times (default 40).
3. Meanwhile, at evenly spread points of the stream, it injects ``--faults`` faults (default
   6), alternately: ``kill -9`` of a gunicorn worker (gunicorn starts another; the requests it
   was serving get no answer), and ``pg_terminate_backend`` on every connection to the
   database (the requests in flight lose their transaction, possibly while it commits).
4. Checks the database against what was acknowledged: **lost** (acknowledged, but no event
   with that ``event_id``), **duplicated** (an ``event_id`` recorded more than once, or more
   events than were sent), events per kind as sent, and whether holdings are **conserved**:
   none negative, every holding equal to its issue quantity plus its ledger, and each batch's
   holdings plus what was sold and lost in transit equal to its issue quantity.
5. Prints acknowledged (new, and 200 replays of an earlier attempt that had landed), lost,
   duplicated, 5xx answers, dropped connections, other refusals (4xx: there must be none) and
   the faults injected; writes the figures to ``bench/out/faults.json``.

Usage (from the repository root, with the virtualenv active)::

    python bench/faults.py                    # 3,000 events, 4 clients, 2 workers, 6 faults
    python bench/faults.py --events 10000 --faults 20 --clients 8

Options: ``--database-url`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/bench_faults``; dropped and re-created),
``--certificates`` (40), ``--workers`` (2), ``--attempts`` (40), ``--seed``.

Exit status: 0 when every event was acknowledged and none was lost or duplicated, nothing was
refused and holdings are conserved; 1 otherwise; 2 for a setup failure.

Traffic only ever goes to 127.0.0.1; every loop is bounded (N events × ``--attempts``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import events as ev  # noqa: E402  (the sibling bench: set-up, journey, server, checks)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_faults"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--certificates", type=int, default=40)
    parser.add_argument(
        "--faults", type=int, default=6, help="alternately kill -9 a worker, terminate backends"
    )
    parser.add_argument("--attempts", type=int, default=40, help="sends of one event before giving up")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    if min(args.events, args.clients, args.workers, args.attempts) < 1 or args.faults < 0:
        parser.error("--events, --clients, --workers and --attempts must be positive")
    if args.certificates < args.clients:
        parser.error("need at least one certificate per client")
    return args


@dataclass
class Tally:
    """What the clients saw, summed over all of them."""

    sent: int = 0
    new: int = 0  # 201
    replayed: int = 0  # 200: an earlier attempt had landed, its answer was lost
    server_errors: Counter[int] = field(default_factory=Counter)
    dropped: int = 0  # no answer: connection reset, closed or timed out
    refused: list[str] = field(default_factory=list)  # any other answer (4xx): must not happen
    unacknowledged: list[str] = field(default_factory=list)  # gave up after --attempts
    acknowledged: list[str] = field(default_factory=list)  # event ids answered 2xx
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acked(self) -> int:
        return self.new + self.replayed


def send_until_acknowledged(
    port: int, headers: dict[str, str], request: ev.Request, attempts: int, tally: Tally
) -> None:
    event_id = json.loads(request.body)["event_id"]
    for attempt in range(attempts):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", "/api/v1/events", body=request.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.dropped += 1
            time.sleep(min(1.0, 0.05 * 2**attempt))
            continue
        finally:
            conn.close()
        with tally.lock:
            if response.status in (200, 201):
                tally.new += response.status == 201
                tally.replayed += response.status == 200
                tally.acknowledged.append(event_id)
                return
            if response.status < 500:
                tally.refused.append(
                    f"{request.kind} -> {response.status}: {body[:300].decode('utf-8', 'replace')}"
                )
                return
            tally.server_errors[response.status] += 1
        retry_after = response.getheader("Retry-After")
        time.sleep(
            float(retry_after) if retry_after and retry_after.isdigit() else min(1.0, 0.05 * 2**attempt)
        )
    with tally.lock:
        tally.unacknowledged.append(event_id)


def run_client(
    port: int,
    tokens: tuple[str, str],
    requests: list[ev.Request],
    attempts: int,
    tally: Tally,
    start: threading.Barrier,
) -> None:
    headers = [
        {"Content-Type": "application/json", "Accept-Language": "en", "Authorization": f"Bearer {token}"}
        for token in tokens
    ]
    start.wait()
    for request in requests:
        with tally.lock:
            tally.sent += 1
        send_until_acknowledged(port, headers[request.token], request, attempts, tally)


@dataclass
class Faults:
    worker_kills: int = 0
    terminations: int = 0
    connections_terminated: int = 0
    log: list[str] = field(default_factory=list)


def inject(server: ev.Server, admin: sa.Engine, database: str, faults: Faults, index: int) -> None:
    """Fault ``index``: even ones kill -9 a worker, odd ones terminate every backend."""
    if index % 2 == 0:
        workers = server.worker_pids()
        if workers:
            victim = random.choice(workers)
            os.kill(victim, signal.SIGKILL)
            faults.worker_kills += 1
            faults.log.append(f"kill -9 worker {victim}")
        return
    with admin.connect() as conn:
        count = conn.scalar(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        )
    faults.terminations += 1
    faults.connections_terminated += int(count or 0)
    faults.log.append(f"pg_terminate_backend: {count} connections")


def run(
    server: ev.Server,
    setup: ev.Setup,
    plan: list[list[ev.Request]],
    args: argparse.Namespace,
    admin: sa.Engine,
) -> tuple[Tally, Faults, float]:
    tally, faults = Tally(), Faults()
    total = sum(len(requests) for requests in plan)
    start = threading.Barrier(len(plan) + 1)
    threads = [
        threading.Thread(
            target=run_client,
            args=(
                server.port,
                (setup.producer_token, setup.market_token),
                requests,
                args.attempts,
                tally,
                start,
            ),
        )
        for requests in plan
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    database = sa.make_url(args.database_url).database or ""
    thresholds = [total * (i + 1) // (args.faults + 1) for i in range(args.faults)]
    for index, threshold in enumerate(thresholds):
        while tally.sent < threshold and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        inject(server, admin, database, faults, index)
        print(f"  fault {index + 1}/{args.faults} at event {tally.sent}: {faults.log[-1]}", flush=True)
    for thread in threads:
        thread.join()
    return tally, faults, time.monotonic() - began


def check(engine: sa.Engine, plan: list[list[ev.Request]], tally: Tally) -> dict[str, Any]:
    """Lost, duplicated and conservation, from the database."""
    from traceapp.certificates.models import Certificate, Holding, Unit
    from traceapp.events.models import Event
    from traceapp.events.rules import to_batch_unit

    with engine.connect() as conn:
        stored = Counter(str(e) for e in conn.scalars(sa.select(Event.client_event_id)))
        issued = dict(conn.execute(sa.select(Certificate.trace_code, Certificate.quantity)).all())
        units = dict(conn.execute(sa.select(Certificate.trace_code, Certificate.unit)).all())
        held: Counter[str] = Counter()
        for code, quantity in conn.execute(
            sa.select(Certificate.trace_code, Holding.quantity).join(
                Holding, Holding.certificate_id == Certificate.id
            )
        ):
            held[code] += quantity
    sent_ids = {json.loads(r.body)["event_id"] for requests in plan for r in requests}
    lost = [i for i in tally.acknowledged if stored[i] == 0]
    duplicated = sum(n - 1 for n in stored.values() if n > 1) + len(set(stored) - sent_ids)
    gone: Counter[str] = Counter()  # what left each batch's chain (in its unit): sold, lost in transit
    in_transit: dict[str, list[Decimal]] = {}  # shipped, not received yet (still held, in transit)
    for requests in plan:
        for r in requests:
            body = json.loads(r.body)
            code = body["trace_code"]
            quantity = to_batch_unit(
                Decimal(body.get("quantity") or 0), Unit(body.get("unit", "kg")), units[code]
            )
            if body["kind"] == "shipping":
                in_transit.setdefault(code, []).append(quantity)
            elif body["kind"] == "receiving":
                gone[code] += in_transit[code].pop(0) - quantity
            elif body["kind"] == "retail_selling":
                gone[code] += quantity
    unbalanced = [code for code, quantity in issued.items() if held[code] + gone[code] != quantity]
    problems = ev.check_after_api(engine, Counter(r.kind for requests in plan for r in requests))
    if unbalanced:
        problems.append(f"{len(unbalanced)} batches: holdings + sold + lost in transit != issued")
    return {"lost": len(lost), "duplicated": duplicated, "conserved": not problems, "problems": problems}


def report(
    args: argparse.Namespace, tally: Tally, faults: Faults, seconds: float, checked: dict[str, Any]
) -> bool:
    ok = (
        checked["lost"] == 0
        and checked["duplicated"] == 0
        and checked["conserved"]
        and not tally.refused
        and not tally.unacknowledged
    )
    fives = sum(tally.server_errors.values())
    rows = [
        (
            "events sent",
            f"{args.events} from {args.clients} clients, {args.workers} workers, {seconds:.1f} s",
        ),
        ("acknowledged", f"{tally.acked} ({tally.new} new, {tally.replayed} replays of a landed attempt)"),
        ("unacknowledged", f"{len(tally.unacknowledged)} (gave up after {args.attempts} sends)"),
        ("lost", str(checked["lost"])),
        ("duplicated", str(checked["duplicated"])),
        ("5xx answers", f"{fives} {dict(sorted(tally.server_errors.items()))}"),
        ("dropped connections", str(tally.dropped)),
        ("refused (4xx)", str(len(tally.refused))),
        (
            "faults",
            f"{faults.worker_kills} worker kill -9, {faults.terminations} pg_terminate_backend "
            f"({faults.connections_terminated} connections)",
        ),
        ("holdings conserved", "yes" if checked["conserved"] else "NO: " + "; ".join(checked["problems"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for line in tally.refused[:5]:
        print("  refused:", line)
    print("PASS" if ok else "FAIL")
    figures = {
        "events": args.events,
        "clients": args.clients,
        "workers": args.workers,
        "seconds": round(seconds, 2),
        "acknowledged": tally.acked,
        "new": tally.new,
        "replayed": tally.replayed,
        "unacknowledged": len(tally.unacknowledged),
        "server_errors": {str(k): v for k, v in tally.server_errors.items()},
        "dropped": tally.dropped,
        "refused": len(tally.refused),
        "faults": {k: v for k, v in asdict(faults).items() if k != "log"},
        **{k: checked[k] for k in ("lost", "duplicated", "conserved")},
        "load": os.getloadavg(),
        "ok": ok,
    }
    (ev.OUT / "faults.json").write_text(json.dumps(figures, indent=2) + "\n")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ev.OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    from traceapp.db import make_engine
    from traceapp.migrate import upgrade

    url = sa.make_url(args.database_url)
    print(f"database {url.render_as_string(hide_password=True)}: re-creating", flush=True)
    ev.recreate_database(args.database_url)
    engine = make_engine(args.database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        upgrade(engine)
        setup = ev.seed(ev.make_app(args.database_url), args.certificates, rng)
        plan = ev.build_plan(setup, args.events, args.clients, rng)
        with ev.serve(args.database_url, args.workers) as server:
            ev.warm_up(server.port, setup, args.workers)
            print(f"{args.events} events, {args.faults} faults: running", flush=True)
            tally, faults, seconds = run(server, setup, plan, args, admin)
        engine.dispose()  # its pooled connections were terminated with the rest
        return 0 if report(args, tally, faults, seconds, check(engine, plan, tally)) else 1
    finally:
        engine.dispose()
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
