"""EPCIS capture and query throughput against a bare Core executemany of the same rows.

One run, on PostgreSQL only:

1. Drop and re-create a scratch database (its name must start with ``bench``), migrate it, and
   make a market (user + API token) through the real services.
2. Build one EPCISDocument of N events (default 10,000) in the shapes of ``bench/events.py``:
   per certificate round, ``storing`` and ``transporting`` ObjectEvents with 3-6 temperature
   readings (``sensorElementList``), ``shipping`` and ``receiving`` with a quantity of the
   batch's LGTIN class and source/destination, and a ``retail_selling`` of half.
3. Capture it through ``POST /epcis/capture`` (``app.test_client()``, inline: the whole capture
   runs in the request, schema and JSON-LD checks, GS1 event hashes and the inserts included),
   timed end to end: events/s.
4. Bare Core executemany: the rows step 3 wrote to ``epcis_events`` and ``epcis_identifiers``,
   with new ids and eventIDs, inserted with ``conn.execute(table.insert(), rows)`` in one
   transaction; only the inserts are timed; the copies are then deleted. Ratio capture /
   executemany (goal 0.3).
5. Page through every event with ``GET /epcis/events?perPage=1000`` following the ``Link``
   header: events/s.
6. Print the figures and write them to ``bench/out/capture.json``.

Usage (from the repository root, with the virtualenv active)::

    python bench/capture.py                  # 10,000 events
    python bench/capture.py --events 2000    # quicker

Options: ``--database-url`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/bench_epcis_capture``; dropped and re-created).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

OUT = Path(__file__).resolve().parent / "out"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
KINDS = ("storing", "transporting", "shipping", "receiving", "retail_selling")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_epcis_capture"
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=12)
    return parser.parse_args(argv)


def recreate_database(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        sys.exit("PostgreSQL only: give a postgresql+psycopg:// URL")
    if not (parsed.database or "").startswith("bench"):
        sys.exit(f"refusing to drop database {parsed.database!r}: its name must start with 'bench'")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        admin.dispose()


def _readings(rng: random.Random, day: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "Temperature",
            "value": round(rng.uniform(1.0, 6.0), 1),
            "uom": "CEL",
            "time": f"2026-11-{day:02d}T0{i}:00:00+08:00",
        }
        for i in range(rng.randint(3, 6))
    ]


def event(i: int, rng: random.Random) -> dict[str, Any]:
    """The i-th event: certificate round i // 5, kind i % 5."""
    kind, batch, day = KINDS[i % 5], i // 5, 1 + (i // 5) % 28
    lgtin = f"https://id.gs1.org/01/06901234567892/10/L{batch:06d}"
    out: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "action": "OBSERVE",
        "bizStep": kind,
        "eventTime": f"2026-11-{day:02d}T0{i % 5 + 1}:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": [],
        "quantityList": [
            {"epcClass": lgtin, "quantity": 1 if kind != "retail_selling" else 0.5, "uom": "KGM"}
        ],
        "readPoint": {"id": f"https://id.gs1.org/414/0690123400009/254/{kind}"},
        "bizLocation": {"id": "https://id.gs1.org/414/0690123400009"},
    }
    if kind in ("storing", "transporting"):
        out["sensorElementList"] = [{"sensorReport": _readings(rng, day)}]
    if kind in ("shipping", "receiving"):
        out["sourceList"] = [{"type": "owning_party", "source": "https://id.gs1.org/417/0690123400009"}]
        out["destinationList"] = [
            {"type": "owning_party", "destination": "https://id.gs1.org/417/0690123400016"}
        ]
    return out


def document(n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-12-01T00:00:00Z",
        "epcisBody": {"eventList": [event(i, rng) for i in range(n)]},
    }


def setup(app: Any) -> str:
    from traceapp import db
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role

    with app.test_request_context(), db.transaction() as session:
        org = orgs.create_organisation(session, kind=OrgKind.MARKET, name="bench market")
        orgs.create_user(
            session, org_id=org.id, email="bench@example.cn", password="correct-horse-9", role=Role.ADMIN
        )
        return orgs.create_api_token(session, email="bench@example.cn")[1]


def capture(app: Any, token: str, doc: dict[str, Any]) -> tuple[float, str]:
    body = json.dumps(doc)
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(
        "/epcis/capture",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/ld+json"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 202 or not response.json["success"] or response.json["running"]:
        sys.exit(f"capture failed: {response.status_code} {response.get_data(as_text=True)[:500]}")
    return elapsed, response.json["captureID"]


def bare_executemany(engine: sa.Engine) -> tuple[float, int]:
    """Copy every captured event and identifier with new ids: time only the inserts."""
    from traceapp.epcis.models import EpcisEvent, EpcisIdentifier

    events, idents = EpcisEvent.__table__, EpcisIdentifier.__table__
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(events).order_by(events.c.id))]
        ident_rows = [dict(r._mapping) for r in conn.execute(sa.select(idents))]
        top = conn.scalar(sa.select(sa.func.max(events.c.id))) or 0
        top_ident = conn.scalar(sa.select(sa.func.max(idents.c.id))) or 0
    offset = top + 1
    for row in rows:
        row["id"] += offset
        row["event_id"] = f"urn:uuid:{uuid.uuid4()}"
    for row in ident_rows:
        row["id"] += top_ident + 1
        row["event_pk"] += offset
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(events.insert(), rows)
        conn.execute(idents.insert(), ident_rows)
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(idents.delete().where(idents.c.id > top_ident))
        conn.execute(events.delete().where(events.c.id > top))
    return elapsed, len(rows)


def query_all(app: Any, token: str) -> tuple[float, int]:
    client = app.test_client()
    url: str | None = "/epcis/events?perPage=1000&orderDirection=ASC"
    seen, started = 0, time.perf_counter()
    while url:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            sys.exit(f"query failed: {response.status_code} {response.get_data(as_text=True)[:300]}")
        seen += len(response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        link = response.headers.get("Link")
        url = re.match(r"<http://[^/]+(.*)>; rel=\"next\"", link).group(1) if link else None
    return time.perf_counter() - started, seen


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import traceapp
    from traceapp import migrate

    recreate_database(args.database_url)
    engine = sa.create_engine(args.database_url)
    migrate.upgrade(engine)
    app = traceapp.create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "bench",
            "EPCIS_CAPTURE_INLINE_EVENTS": args.events,
            "EPCIS_CAPTURE_MAX_EVENTS": args.events,
            "RATELIMIT_ENABLED": False,
        }
    )
    token = setup(app)
    doc = document(args.events, args.seed)
    capture_s, _capture_id = capture(app, token, doc)
    bare_s, bare_n = bare_executemany(engine)
    query_s, seen = query_all(app, token)
    if seen != args.events or bare_n != args.events:
        sys.exit(f"expected {args.events} events, queried {seen}, copied {bare_n}")
    figures = {
        "events": args.events,
        "capture_events_per_s": round(args.events / capture_s, 1),
        "executemany_events_per_s": round(bare_n / bare_s, 1),
        "ratio": round((args.events / capture_s) / (bare_n / bare_s), 3),
        "query_events_per_s": round(seen / query_s, 1),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "capture.json").write_text(json.dumps(figures, indent=2))
    for name, value in figures.items():
        print(f"{name:28} {value}")
    engine.dispose()


if __name__ == "__main__":
    main()
