"""Trace and recall at scale on PostgreSQL: 1,000,000 certificates, 5,000,000 events.

What it does, in order:

1. Drop and re-create a scratch database (``bench_trace``; the name must start with ``bench``)
   with an AUTOCOMMIT engine and migrate it with ``traceapp.migrate.upgrade``.
2. Shape check. A small sample is first made through the real services (organisations, users,
   ``issue_certificate``, ``record_event`` for shipping with and without a carrier, transport
   legs with readings / min-max / nothing, receiving, a gate inspection, transforming,
   portioning, retail selling) inside a transaction that is rolled back, and its rows are
   compared, per event kind, with rows of the generator (EPCIS fields, which columns are
   set, details keys, the items' roles, the ledger's pattern, readings, certificate columns)
   and with the holdings invariant. Any difference stops the run.
3. Generate (streaming, seeded) organisations (~2,000 producers, 100 markets, 50 processors,
   5 carriers, 1 regulator; one admin user each), then certificates, holdings, events,
   event_items, holding_changes and temperature_readings, written with psycopg ``COPY ...
   FROM STDIN`` (``write_row``), one connection per table, ``FREEZE`` after a ``TRUNCATE`` in
   the same transaction. Primary keys, unique constraints, indexes and foreign keys are
   dropped for the load and re-created afterwards from their catalogue definitions (checked
   identical afterwards); re-adding the foreign keys validates every reference.
   Shapes (see ``Gen``): producer batches shipped (with or without a carrier; carriers record
   transport legs, some with 3-5 readings) to markets or processors; markets take delivery by
   receiving or by an accepted gate inspection with a rapid test, portion lots (1 input -> 2-5
   portions) and sell lots and portions at retail; processors transform 1-3 inputs into 1-3
   outputs, outputs being re-processed by other processors for up to four levels (a lot may
   feed two runs; some lots are left partly in stock). Every movement has its ledger rows
   and every certificate its final holdings, so holdings == issue + ledger everywhere (checked
   with one SQL query after the load). One big producer batch goes through a processor into
   lots at twelve markets that portion it into thousands of portions: its forward closure
   touches ~10,000 events (``--recall-events``); it is the recall measured below.
   Then ``VACUUM (ANALYZE)`` (rows are frozen already; this mostly analyses).
4. Measure in-process, through the real code paths (not raw SQL, not HTTP): a Flask app from
   ``create_app`` and an ``Actor`` of the regulator; each trace runs in its own
   ``app.test_request_context()`` with a fresh request session, like a request:
   ``find_by_code`` (timed apart) then ``trace_document(..., base_url="https://x")`` timed with
   ``time.perf_counter``. 500 random codes (``--traces``): half producer batches forward, half
   backward (60 % portions, 40 % processor outputs), picked in a seeded hash order,
   after 20 untimed warm-up traces. Then ``open_recall`` on the big batch (timed, committed),
   ``export.to_csv`` consumed fully and ``export.to_xlsx``, each timed, rows and distinct
   events counted. Earlier recalls of this benchmark (recalls, recall_batches, recall_parties,
   quarantines) are deleted first, so reruns measure the same thing.
5. Print a table with the targets (p95 trace < 200 ms; export < 5 s) and PASS / BELOW TARGET,
   the database size, and write everything to ``bench/out/trace.json``.

Usage (from the repository root, with the virtualenv active)::

    python bench/trace.py                      # generate 1M certificates / 5M events, measure
    python bench/trace.py --reuse              # keep a complete bench_trace, only measure
    python bench/trace.py --quick              # 20,000 certificates / 100,000 events
    python bench/trace.py --dry-run            # generate into memory only; print shape stats
    python bench/trace.py --reuse --explain    # also EXPLAIN ANALYZE every query of a trace
    python bench/trace.py --reuse --profile    # also cProfile traces and the export (slower)
    python bench/trace.py --reuse --fix stats --fix gc-freeze   # measure with proposed fixes

A long run in the background::

    nohup python bench/trace.py > bench/out/trace-run.txt 2>&1 &

Options: ``--database-url`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/bench_trace``;
dropped and re-created unless ``--reuse`` finds it complete), ``--certificates`` (1,000,000),
``--events`` (5,000,000), ``--recall-events`` (10,000), ``--traces`` (500), ``--seed`` (1),
``--skip-shape-check``, ``--fix NAME`` (repeatable; measure with a proposed fix that needs no
code change: ``stats`` sets a statistics target of 1000 on the ``certificate_id`` columns of
event_items, holding_changes and holdings and re-analyses them, reverted after the run;
``gc-freeze`` calls ``gc.freeze()`` after ``create_app`` as a gunicorn worker would after
import; ``jit-off`` connects with ``options=-cjit=off``). Results go to
``bench/out/trace[-FIX...].json``; ``--explain`` writes ``bench/out/trace-explain.txt``,
``--profile`` ``bench/out/trace-profile.txt``; the recall's CSV and XLSX are kept in
``bench/out`` for inspection.

The machine is shared: compare variants on the same machine state (``uptime``), or
interleave them; single runs moved by ±30 % while other benchmarks ran.

``--reuse`` accepts the database only if its comment (written at the end of a load) says the
load completed with the same sizes and seed, and the row counts of certificates and events
match; otherwise it generates again.

Exit status: 0 after a complete run (targets are reported, not enforced); 1 when the shape
check or a consistency check fails; 2 for a setup failure.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from traceapp import codes, migrate
from traceapp.coldchain import verdicts as coldchain
from traceapp.coldchain.documents import leg_document
from traceapp.db import make_engine
from traceapp.events.models import EventKind
from traceapp.events.rules import EPCIS

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_trace"
OUT = Path(__file__).resolve().parent / "out"
K = EventKind

# --------------------------------------------------------------------------------------------
# Columns, in COPY order (names as in the migrations).
# --------------------------------------------------------------------------------------------

INHERITED = (
    "product_name",
    "category",
    "origin_region_code",
    "origin_address",
    "harvest_date",
    "batch_no",
    "gtin",
    "commitments",
    "basis",
    "lab_name",
    "report_number",
    "report_id",
    "producer_name",
    "producer_phone",
    "producer_region_code",
)  # certificates.services._INHERITED
COLUMNS = {
    "organisations": ("id", "kind", "name", "region_code", "phone", "address", "created_at"),
    "users": ("id", "org_id", "email", "password_hash", "role", "created_at"),
    "products": ("id", "org_id", "name", "category", "unit", "created_at"),
    "certificates": (
        "id",
        "trace_code",
        "kind",
        "org_id",
        "issued_by_id",
        "client_event_id",
        "request_digest",
        "quantity",
        "unit",
        "issued_at",
    )
    + INHERITED,
    "holdings": ("certificate_id", "org_id", "state", "quantity"),
    "events": (
        "id",
        "org_id",
        "recorded_by_id",
        "client_event_id",
        "request_digest",
        "kind",
        "epcis_type",
        "action",
        "biz_step",
        "disposition",
        "occurred_at",
        "tz_offset",
        "recorded_at",
        "location",
        "source_org_id",
        "destination_org_id",
        "carrier_org_id",
        "answers_id",
        "corrects_id",
        "correction_reason",
        "details",
    ),
    "event_items": ("event_id", "position", "certificate_id", "role", "quantity", "unit"),
    "holding_changes": ("event_id", "position", "certificate_id", "org_id", "state", "delta"),
    "temperature_readings": ("event_id", "position", "at", "celsius"),
}
BULK_TABLES = ("certificates", "holdings", "events", "event_items", "holding_changes", "temperature_readings")
RECALL_TABLES = ("recall_parties", "recall_batches", "quarantines", "recalls")

# --------------------------------------------------------------------------------------------
# Catalogue: products by category, what processors make of them, names.
# --------------------------------------------------------------------------------------------

CATALOGUE = {
    "vegetable": (
        "大白菜",
        "菠菜",
        "西兰花",
        "胡萝卜",
        "黄瓜",
        "番茄",
        "土豆",
        "芹菜",
        "生菜",
        "韭菜",
        "莲藕",
        "青椒",
    ),
    "fruit": ("苹果", "梨", "柑橘", "葡萄", "草莓", "西瓜"),
    "edible_fungus": ("香菇", "平菇", "金针菇"),
    "livestock": ("猪肉", "牛肉", "羊肉"),
    "poultry": ("鸡肉", "鸭肉"),
    "aquatic": ("草鱼", "鲫鱼", "小龙虾"),
    "egg": ("鸡蛋", "鸭蛋"),
    "tea": ("绿茶",),
}
CATEGORY_WEIGHTS = {
    "vegetable": 50,
    "fruit": 15,
    "edible_fungus": 8,
    "livestock": 8,
    "poultry": 6,
    "aquatic": 7,
    "egg": 4,
    "tea": 2,
}
PROCESSED = {
    "vegetable": ("净菜{}", "鲜切{}", "混合蔬菜包"),
    "fruit": ("{}果切", "{}礼盒"),
    "edible_fungus": ("{}菌菇包",),
    "livestock": ("冷鲜{}", "{}分割件"),
    "poultry": ("冷鲜{}",),
    "aquatic": ("冰鲜{}",),
    "egg": ("{}礼盒",),
    "tea": ("{}礼盒",),
}
FARM_WORDS = ("绿源", "丰收", "金穗", "田园", "富民", "惠农", "青山", "清泉", "阳光", "沃土", "兴旺", "康农")
SURNAMES = ("张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴")
PROMISES = ["no_banned_substances", "residues_within_limits", "truthful"]
COMMITMENTS = json.dumps(PROMISES)
BASES = tuple(
    json.dumps(b) for b in (["self_test"], ["internal_qc"], ["self_commitment"], ["self_test", "internal_qc"])
)
RAPID_TESTS = (
    ("enzyme_inhibition", "有机磷和氨基甲酸酯类农药", "%"),
    ("colloidal_gold", "克伦特罗", None),
    ("colloidal_gold", "孔雀石绿", None),
)
TEMPERATURES = {
    "vegetable": (2, 6),
    "edible_fungus": (1, 5),
    "fruit": (3, 9),
    "livestock": (0, 4),
    "poultry": (0, 4),
    "aquatic": (0, 4),
}
TZ = "+08:00"
CHINA = timezone(timedelta(hours=8))
BASE_TIME = datetime(2025, 1, 6, tzinfo=UTC)
SPAN = timedelta(days=330)
HOUR = timedelta(hours=1)


def qtext(grams: int) -> str:
    """A quantity in thousandths as ``decimal_text`` writes it (``99500`` → ``99.5``)."""
    return format((Decimal(grams) / 1000).normalize(), "f")


def counties() -> dict[str, str]:
    text = resources.files("traceapp").joinpath("data/regions.json").read_text("utf-8")
    return json.loads(text)["counties"]


# --------------------------------------------------------------------------------------------
# Sinks: where generated rows go.
# --------------------------------------------------------------------------------------------


class ListSink:
    """Rows kept in memory, per table (the shape check and ``--dry-run``)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = defaultdict(list)

    def writer(self, table: str):  # type: ignore[no-untyped-def]
        return self.rows[table].append

    def dicts(self, table: str) -> list[dict[str, Any]]:
        return [dict(zip(COLUMNS[table], row, strict=True)) for row in self.rows[table]]


class CountSink:
    """Rows only counted (a full-size ``--dry-run`` without the memory)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def writer(self, table: str):  # type: ignore[no-untyped-def]
        counts = self.counts

        def write(_row: tuple) -> None:
            counts[table] += 1

        return write


class CopySink:
    """One connection per table, each inside ``TRUNCATE; COPY ... FROM STDIN WITH (FREEZE)``."""

    def __init__(self, conninfo: str, tables: tuple[str, ...]) -> None:
        self.stack = contextlib.ExitStack()
        self.conns: list[psycopg.Connection] = []
        self.copies: dict[str, Any] = {}
        for table in tables:
            conn = psycopg.connect(conninfo)
            self.conns.append(conn)
            conn.execute("SET synchronous_commit = off")
            conn.execute(f"TRUNCATE {table}")
            cursor = self.stack.enter_context(conn.cursor())
            copy = self.stack.enter_context(
                cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN WITH (FREEZE)")
            )
            self.copies[table] = copy

    def writer(self, table: str):  # type: ignore[no-untyped-def]
        return self.copies[table].write_row

    def close(self, ok: bool) -> None:
        """Finish every COPY and commit; after a failure, drop the connections (rolls back)."""
        try:
            if ok:
                self.stack.close()
                for conn in self.conns:
                    conn.commit()
        finally:
            for conn in self.conns:
                conn.close()


# --------------------------------------------------------------------------------------------
# The world: organisations and their users.
# --------------------------------------------------------------------------------------------


class Org:
    __slots__ = ("id", "kind", "name", "user", "region", "phone", "address", "products")

    def __init__(
        self, id: str, kind: str, name: str, user: str, region: str, phone: str, address: str
    ) -> None:
        self.id, self.kind, self.name, self.user = id, kind, name, user
        self.region, self.phone, self.address = region, phone, address
        self.products: list[tuple[str, str]] = []


class Ids:
    """Seeded random identifiers: version-4 UUIDs as 32 hex digits (PostgreSQL reads them),
    SHA-256-like digests, trace codes with their check symbol."""

    def __init__(self, rng: random.Random) -> None:
        self.bits = rng.getrandbits

    def uid(self) -> str:
        x = self.bits(128)
        x = (x & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
        return f"{x:032x}"

    def digest(self) -> str:
        return f"{self.bits(256):064x}"

    def trace_code(self) -> str:
        x = self.bits(65)
        alphabet = codes.ALPHABET
        body = "".join(alphabet[(x >> (5 * i)) & 31] for i in range(codes.BODY_LENGTH))
        # The check symbol of the real minting code (codes.mint_trace_code draws the body from
        # ``secrets``; we draw it from the seeded generator so runs are reproducible).
        return body + codes._luhn_check_symbol(body)


def make_world(
    rng: random.Random,
    ids: Ids,
    *,
    producers: int = 2000,
    markets: int = 100,
    processors: int = 50,
    carriers: int = 5,
) -> dict[str, list[Org]]:
    places = counties()
    county_codes = sorted(places)
    # Producers come from a few hundred counties (farming regions), markets and processors from others.
    farm_counties = rng.sample(county_codes, 300)
    world: dict[str, list[Org]] = {
        "producer": [],
        "market": [],
        "processor": [],
        "carrier": [],
        "regulator": [],
    }
    cats = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())

    def phone() -> str:
        return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"

    def org(kind: str, name: str, region: str, address: str) -> Org:
        return Org(ids.uid(), kind, name, ids.uid(), region, phone(), address)

    for i in range(producers):
        region = rng.choice(farm_counties)
        cat = rng.choices(cats, weights)[0]
        kind_word = {
            "vegetable": "蔬菜",
            "fruit": "果业",
            "edible_fungus": "食用菌",
            "livestock": "养殖",
            "poultry": "禽业",
            "aquatic": "水产",
            "egg": "蛋禽",
            "tea": "茶叶",
        }[cat]
        name = (
            f"{places[region]}{rng.choice(FARM_WORDS)}{kind_word}专业合作社"
            if i % 3
            else f"{places[region]}{rng.choice(SURNAMES)}氏家庭农场"
        )
        village = f"{places[region]}{rng.randint(1, 30)}村{rng.randint(1, 99)}组"
        o = org("producer", f"{name}{i}", region, village)
        choices = CATALOGUE[cat]
        o.products = [(p, cat) for p in rng.sample(choices, min(len(choices), rng.randint(1, 3)))]
        world["producer"].append(o)
    others = [c for c in county_codes if c not in set(farm_counties)]
    for i in range(markets):
        region = rng.choice(others)
        world["market"].append(
            org(
                "market",
                f"{places[region]}农产品批发市场{i}",
                region,
                f"{places[region]}商贸大道{rng.randint(1, 300)}号",
            )
        )
    for i in range(processors):
        region = rng.choice(others)
        world["processor"].append(
            org(
                "processor",
                f"{places[region]}鲜食加工有限公司{i}",
                region,
                f"{places[region]}工业园{rng.randint(1, 60)}号",
            )
        )
    for i in range(carriers):
        region = rng.choice(others)
        world["carrier"].append(
            org(
                "carrier",
                f"{places[region]}冷链物流有限公司{i}",
                region,
                f"{places[region]}物流园{rng.randint(1, 20)}号",
            )
        )
    world["regulator"].append(org("regulator", "农业农村局农产品质量安全监管科", "420100", "武汉市江岸区"))
    return world


def write_world(sink: Any, world: dict[str, list[Org]], password_hash: str) -> None:
    orgs, users = sink.writer("organisations"), sink.writer("users")
    created = BASE_TIME - timedelta(days=30)
    n = 0
    for kind_orgs in world.values():
        for o in kind_orgs:
            orgs((o.id, o.kind, o.name, o.region, o.phone, o.address, created))
            users((o.user, o.id, f"admin{n}@bench.example.cn", password_hash, "admin", created))
            n += 1


# --------------------------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------------------------


class Lot:
    """A certificate (batch) being generated: its holdings are tracked until it is finished."""

    __slots__ = ("id", "code", "org", "qty", "cat", "src", "hold", "big", "kind")

    def __init__(self, id: str, code: str, org: Org, qty: int, cat: str, src: tuple, kind: str) -> None:
        self.id, self.code, self.org, self.qty = id, code, org, qty
        self.cat, self.src, self.kind = cat, src, kind
        self.hold: dict[tuple[str, str], int] = {(org.id, "on_hand"): qty}
        self.big = False

    def on_hand(self, org: Org) -> int:
        return self.hold.get((org.id, "on_hand"), 0)


class Gen:
    """Streams rows shaped like the services' rows (a sample is first made through the real
    services to check the shape: see ``shape_check``).

    Units, drawn until the targets are near: *direct* (a producer batch shipped to one or two
    markets) and *cluster* (producer batches processed at 1-4 levels of processors, outputs sold
    through markets). Every lot's life is generated inside its unit, so the unit writes its
    lots' final holdings when it ends and nothing outlives it in memory. A feedback on the
    number of retail sales keeps events/certificates on the target ratio; a fill of single
    producer batches lands both totals exactly.
    """

    def __init__(
        self,
        sink: Any,
        world: dict[str, list[Org]],
        rng: random.Random,
        ids: Ids,
        *,
        target_certs: int,
        target_events: int,
        recall_events: int,
        settings: Any,
    ) -> None:
        self.rng, self.ids, self.world = rng, ids, world
        self.uid, self.digest = ids.uid, ids.digest
        self.w_cert, self.w_hold = sink.writer("certificates"), sink.writer("holdings")
        self.w_event, self.w_item = sink.writer("events"), sink.writer("event_items")
        self.w_change, self.w_reading = sink.writer("holding_changes"), sink.writer("temperature_readings")
        self.producers, self.markets = world["producer"], world["market"]
        self.processors, self.carriers = world["processor"], world["carrier"]
        self.target_certs, self.target_events, self.recall_events = target_certs, target_events, recall_events
        self.ratio = target_events / target_certs
        self.settings = settings
        self.n_certs = self.n_events = self.n_readings = 0
        self.big_events = 0
        self.big_code: str | None = None
        self.products: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.kinds: Counter[str] = Counter()
        self.depths: Counter[int] = Counter()
        self.lots: list[Lot] = []

    # -- time ---------------------------------------------------------------------------------

    def clock(self) -> datetime:
        """Units start along a year in the order they are made (progress through the target)."""
        progress = min(1.0, self.n_certs / self.target_certs)
        return BASE_TIME + SPAN * progress + timedelta(seconds=self.rng.randint(0, 86_400))

    def later(self, t: datetime, low: float, high: float) -> datetime:
        return t + timedelta(seconds=int(self.rng.uniform(low, high) * 3600))

    # -- certificates -------------------------------------------------------------------------

    def issue(
        self, org: Org, kind: str, qty: int, t: datetime, src: tuple, *, digest: bool, client_id: bool = False
    ) -> Lot:
        lot = Lot(self.uid(), self.ids.trace_code(), org, qty, src[1], src, kind)
        self.w_cert(
            (
                lot.id,
                lot.code,
                kind,
                org.id,
                org.user,
                self.uid() if client_id else None,
                self.digest() if digest else None,
                qty,
                "kg",
                t,
            )
            + src
        )
        self.n_certs += 1
        self.lots.append(lot)
        if digest and (org.id, src[0]) not in self.products:  # _remember_product
            self.products[(org.id, src[0])] = (src[1], t)
        return lot

    def producer_batch(self, t: datetime, qty: int | None = None, producer: Org | None = None) -> Lot:
        rng = self.rng
        p = producer or rng.choice(self.producers)
        product, cat = rng.choice(p.products)
        qty = qty or rng.randint(2, 50) * 100_000
        harvest = (t + 8 * HOUR).date() - timedelta(days=rng.randint(0, 1))
        batch_no = f"{harvest:%Y%m%d}-{rng.randint(1, 99):02d}" if rng.random() < 0.5 else None
        src = (
            product,
            cat,
            p.region,
            p.address,
            harvest,
            batch_no,
            None,
            COMMITMENTS,
            rng.choice(BASES),
            None,
            None,
            None,
            p.name,
            p.phone,
            p.region,
        )
        return self.issue(p, "certificate", qty, t, src, digest=True, client_id=rng.random() < 0.6)

    def output(self, proc: Org, inputs: list[Lot], qty: int, t: datetime) -> Lot:
        first = inputs[0]
        cat = first.cat
        pattern = self.rng.choice(PROCESSED[cat])
        product = pattern.format(first.src[0]) if "{}" in pattern else pattern
        src = (
            product[:60],
            cat,
            first.src[2],
            None,
            t.date(),
            f"P{t:%y%m%d}{self.rng.randint(1, 999):03d}",
            None,
            COMMITMENTS,
            BASES[1],
            None,
            None,
            None,
            proc.name,
            proc.phone,
            proc.region,
        )
        lot = self.issue(proc, "certificate", qty, t, src, digest=True)
        lot.big = any(i.big for i in inputs)
        return lot

    def portion_of(self, market: Org, source: Lot, qty: int, t: datetime) -> Lot:
        lot = self.issue(market, "portion", qty, t, source.src, digest=False)
        lot.big = source.big
        return lot

    def finish(self) -> None:
        """Write the final holdings of every lot of the unit (rows at 0 stay, as in the app)."""
        w = self.w_hold
        for lot in self.lots:
            for (org_id, state), qty in lot.hold.items():
                w((lot.id, org_id, state, qty))
        self.lots = []

    # -- events -------------------------------------------------------------------------------

    def event(
        self,
        kind: EventKind,
        org: Org,
        t: datetime,
        lots: tuple[Lot, ...],
        *,
        location: str | None = None,
        src: Org | None = None,
        dst: Org | None = None,
        carrier: Org | None = None,
        answers: str | None = None,
        details: str = "{}",
        disposition: str | None = None,
    ) -> tuple[str, datetime]:
        shape = EPCIS[kind]
        eid = self.uid()
        recorded = t + timedelta(seconds=self.rng.randint(2, 900))
        self.w_event(
            (
                eid,
                org.id,
                org.user,
                self.uid(),
                self.digest(),
                kind.value,
                shape.event_type,
                shape.action,
                shape.biz_step,
                disposition or shape.disposition,
                t,
                TZ,
                recorded,
                location,
                src.id if src else None,
                dst.id if dst else None,
                carrier.id if carrier else None,
                answers,
                None,
                None,
                details,
            )
        )
        self.n_events += 1
        self.kinds[kind.value] += 1
        if any(lot.big for lot in lots):
            self.big_events += 1
        return eid, recorded

    def item(self, eid: str, pos: int, lot: Lot, role: str, qty: int | None) -> None:
        self.w_item((eid, pos, lot.id, role, qty, "kg" if qty is not None else None))

    def change(self, eid: str, pos: int, lot: Lot, org: Org, state: str, delta: int) -> None:
        key = (org.id, state)
        after = lot.hold.get(key, 0) + delta
        if after < 0:
            raise AssertionError(f"holding of {lot.code} at {org.name} would go below zero")
        lot.hold[key] = after
        self.w_change((eid, pos, lot.id, org.id, state, delta))

    def market_place(self, market: Org) -> str | None:
        rng = self.rng
        return f"{market.name} {rng.randint(1, 8)}区{rng.randint(1, 150)}号" if rng.random() < 0.8 else None

    def ship(self, lot: Lot, frm: Org, to: Org, qty: int, t: datetime, carrier: Org | None) -> str:
        eid, _ = self.event(
            K.SHIPPING,
            frm,
            t,
            (lot,),
            src=frm,
            dst=to,
            carrier=carrier,
            location=frm.address if self.rng.random() < 0.5 else None,
        )
        self.change(eid, 0, lot, frm, "on_hand", -qty)
        self.change(eid, 1, lot, to, "in_transit", qty)
        self.item(eid, 0, lot, "subject", qty)
        return eid

    def leg(self, lot: Lot, carrier: Org, t: datetime, qty: int) -> None:
        """A carrier's transport leg: readings (3-5), a min/max pair, or nothing."""
        rng = self.rng
        draw = rng.random()
        readings: list[coldchain.Reading] = []
        details = "{}"
        allowed = self.settings.ranges.get(_category(lot.cat))
        if draw < 0.25:
            low, high = TEMPERATURES.get(lot.cat, (8, 20))
            at = t
            for _ in range(rng.randint(3, 5)):
                celsius = Decimal(f"{rng.uniform(low - 1.5, high + 1.0):.2f}")
                readings.append(coldchain.Reading(at, celsius))
                at += timedelta(minutes=rng.choice((10, 15, 20, 40)))
            verdict = coldchain.judge_readings(readings, allowed, max_gap=self.settings.max_gap)
            details = json.dumps({"cold_chain": leg_document(verdict, allowed)})
        elif draw < 0.6:
            low, high = TEMPERATURES.get(lot.cat, (8, 20))
            lo = Decimal(f"{rng.uniform(low - 1, low + 1):.1f}")
            hi = Decimal(f"{rng.uniform(high - 1, high + 1.5):.1f}")
            verdict = coldchain.judge_min_max(lo, hi, allowed)
            details = json.dumps({"cold_chain": leg_document(verdict, allowed)})
        eid, _ = self.event(
            K.TRANSPORTING,
            carrier,
            t,
            (lot,),
            details=details,
            location=f"{carrier.name}车辆" if rng.random() < 0.3 else None,
        )
        self.item(eid, 0, lot, "subject", qty if rng.random() < 0.5 else None)
        for position, reading in enumerate(readings):
            self.w_reading((eid, position, reading.at, reading.celsius))
        self.n_readings += len(readings)

    def take_delivery(
        self, lot: Lot, frm: Org, to: Org, ship_eid: str, shipped: int, t: datetime, *, gate: bool
    ) -> int:
        """Receiving, or (at a market gate) an accepted inspection that answers the shipment."""
        rng = self.rng
        lost = 0 if rng.random() < 0.8 else min(shipped // 100, rng.randint(1, 50) * 100)
        received = shipped - lost
        quantities = {"shipped": qtext(shipped), "received": qtext(received), "lost": qtext(lost)}
        if gate:
            method, item, unit = rng.choice(RAPID_TESTS)
            test: dict[str, Any] = {"method": method, "item": item}
            if unit:
                test.update(value=f"{rng.uniform(2, 35):.1f}", value_unit=unit)
            test.update(
                tester=f"{rng.choice(SURNAMES)}检测员",
                tested_at=(t - timedelta(minutes=10)).isoformat(),
                result="negative",
            )
            brought = (
                {"name": f"{rng.choice(SURNAMES)}师傅", "vehicle": f"鄂A{rng.randint(10000, 99999)}"}
                if rng.random() < 0.5
                else None
            )
            details = {
                "result": "accepted",
                "certificate_status": "valid",
                "tests": [test],
                "brought_by": brought,
                **quantities,
            }
            eid, _ = self.event(
                K.INSPECTING,
                to,
                t,
                (lot,),
                src=frm,
                dst=to,
                answers=ship_eid,
                details=json.dumps(details),
                disposition="conformant",
                location=self.market_place(to),
            )
        else:
            details2: dict[str, Any] = dict(quantities)
            if rng.random() < 0.3:
                low, high = TEMPERATURES.get(lot.cat, (8, 20))
                allowed = self.settings.ranges.get(_category(lot.cat))
                verdict = coldchain.judge_min_max(Decimal(low), Decimal(high), allowed)
                details2["cold_chain"] = leg_document(verdict, allowed)
            eid, _ = self.event(
                K.RECEIVING,
                to,
                t,
                (lot,),
                src=frm,
                dst=to,
                answers=ship_eid,
                details=json.dumps(details2),
                location=to.address if rng.random() < 0.5 else None,
            )
        self.change(eid, 0, lot, to, "in_transit", -shipped)
        self.change(eid, 1, lot, to, "on_hand", received)
        self.item(eid, 0, lot, "subject", received)
        return received

    def consign(
        self,
        lot: Lot,
        frm: Org,
        to: Org,
        qty: int,
        t: datetime,
        *,
        gate: bool = False,
        carrier_p: float = 0.6,
    ) -> tuple[int, datetime]:
        """Ship, maybe a carrier's leg, then delivery. Returns what arrived and when."""
        rng = self.rng
        carrier = rng.choice(self.carriers) if rng.random() < carrier_p else None
        ship_eid = self.ship(lot, frm, to, qty, t, carrier)
        t = self.later(t, 0.5, 3)
        if carrier is not None and rng.random() < 0.85:
            self.leg(lot, carrier, t, qty)
            t = self.later(t, 1, 6)
        received = self.take_delivery(lot, frm, to, ship_eid, qty, t, gate=gate and rng.random() < 0.5)
        return received, self.later(t, 0.2, 2)

    def sell(self, market: Org, lot: Lot, qty: int, t: datetime) -> None:
        eid, _ = self.event(K.RETAIL_SELLING, market, t, (lot,), location=self.market_place(market))
        self.change(eid, 0, lot, market, "on_hand", -qty)
        self.item(eid, 0, lot, "subject", qty)

    def sell_down(self, market: Org, lot: Lot, t: datetime, sales: int, *, keep_p: float = 0.2) -> datetime:
        """Sell what the market holds in ``sales`` sales (sometimes keeping some in stock)."""
        have = lot.on_hand(market)
        if keep_p and self.rng.random() < keep_p:
            have = have * self.rng.randint(50, 95) // 100
        for qty in self.split(have, sales):
            t = self.later(t, 0.1, 8)
            self.sell(market, lot, qty, t)
        return t

    def sales(self, low: int, high: int) -> int:
        """Retail sales of a lot: uniform in [low, high], nudged to keep events on the ratio."""
        behind = self.ratio * self.n_certs - self.n_events
        nudge = max(-3, min(6, int(behind / 200)))
        return max(1, self.rng.randint(low, high) + nudge)

    def portion(self, market: Org, lot: Lot, amounts: list[int], t: datetime) -> list[Lot]:
        eid, recorded = self.event(K.PORTIONING, market, t, (lot,), location=self.market_place(market))
        total = sum(amounts)
        self.change(eid, 0, lot, market, "on_hand", -total)
        self.item(eid, 0, lot, "input", total)
        pieces = [self.portion_of(market, lot, qty, recorded) for qty in amounts]
        for position, piece in enumerate(pieces, 1):
            self.item(eid, position, piece, "output", piece.qty)
        return pieces

    def transform(
        self, proc: Org, inputs: list[tuple[Lot, int]], t: datetime, n_out: int | None = None
    ) -> list[Lot]:
        rng = self.rng
        consumed = sum(q for _l, q in inputs)
        made = int(consumed * rng.uniform(0.85, 0.98)) // 100 * 100
        amounts = self.split(made, n_out or rng.choices((1, 2, 3), (45, 35, 20))[0])
        eid, recorded = self.event(
            K.TRANSFORMING,
            proc,
            t,
            tuple(lot for lot, _q in inputs),
            location=proc.address if rng.random() < 0.5 else None,
        )
        for position, (lot, qty) in enumerate(inputs):
            self.change(eid, position, lot, proc, "on_hand", -qty)
            self.item(eid, position, lot, "input", qty)
        outs = [self.output(proc, [lot for lot, _q in inputs], qty, recorded) for qty in amounts]
        for position, out in enumerate(outs, len(inputs)):
            self.item(eid, position, out, "output", out.qty)
        return outs

    def split(self, total: int, parts: int) -> list[int]:
        """``total`` in up to ``parts`` positive pieces of similar size (0.6-1.4 of the mean), in
        100 g steps where possible (fewer pieces when there is too little)."""
        parts = max(1, min(parts, total // 100))
        if parts == 1:
            return [total] if total > 0 else []
        uniform = self.rng.uniform
        weights = [uniform(0.6, 1.4) for _ in range(parts)]
        scale = total / sum(weights) / 100
        pieces = [max(1, int(w * scale)) * 100 for w in weights[:-1]]
        rest = total - sum(pieces)
        if rest <= 0:
            return [total]
        return [*pieces, rest]

    # -- what happens at a market ---------------------------------------------------------------

    def at_market(self, lot: Lot, market: Org, t: datetime, *, portion_p: float, most: int = 5) -> None:
        """Portion part of the lot (maybe twice) into 2 to ``most`` portions, and sell the
        portions and the rest at retail."""
        rng = self.rng
        if rng.random() < portion_p:
            for _ in range(1 if rng.random() < 0.7 else 2):
                have = lot.on_hand(market)
                share = have * rng.randint(20, 60) // 100
                if share < 1000:
                    break
                t = self.later(t, 1, 12)
                pieces = self.portion(market, lot, self.split(share, rng.randint(2, most)), t)
                for piece in pieces:
                    self.sell_down(market, piece, t, self.sales(1, 3), keep_p=0.15)
        self.sell_down(market, lot, t, self.sales(3, 7))

    # -- units ----------------------------------------------------------------------------------

    def direct(self) -> None:
        """A producer batch shipped to one or two markets (sometimes part stays on the farm)."""
        rng = self.rng
        t = self.clock()
        lot = self.producer_batch(t)
        farm = lot.org
        consignments = 1 if rng.random() < 0.7 else 2
        # Now and then part of the batch stays on the farm.
        sent = lot.qty if rng.random() < 0.9 else lot.qty * rng.randint(60, 95) // 100
        shares = self.split(sent, consignments)
        for market, qty in zip(rng.sample(self.markets, len(shares)), shares, strict=True):
            t = self.later(t, 2, 20)
            _arrived, at = self.consign(lot, farm, market, qty, t, gate=True)
            self.at_market(lot, market, at, portion_p=0.15)
        self.finish()

    def cluster(self, depth: int) -> None:
        """Producer batches processed through ``depth`` processors in a row; outputs to markets.

        Level 1 takes 3-7 fresh producer batches, later levels the onward outputs of the level
        before plus 0-2 fresh batches. Inputs are spread over runs (``runs``); each run makes
        1-3 outputs. Outputs go onward (at least one and half of the others, while a next level
        exists) or to one or two markets, which portion and sell them.
        """
        rng = self.rng
        self.depths[depth] += 1
        t = self.clock()
        procs = rng.sample(self.processors, depth)
        onward: list[tuple[Lot, Org]] = []
        for level, proc in enumerate(procs, 1):
            arrivals: list[tuple[Lot, int]] = []
            arrived_by = t
            for _ in range(rng.randint(15, 45) if level == 1 else rng.randint(0, 3)):
                issued = self.later(t, -48, -30)
                lot = self.producer_batch(issued)
                qty = lot.qty
                if rng.random() < 0.2:  # part of the batch sold straight to a market
                    part = qty * rng.randint(20, 50) // 100 // 100 * 100
                    market = rng.choice(self.markets)
                    _got, at = self.consign(lot, lot.org, market, part, self.later(issued, 1, 20), gate=True)
                    self.at_market(lot, market, at, portion_p=0.15)
                    qty -= part
                received, at = self.consign(lot, lot.org, proc, qty, self.later(issued, 1, 20))
                arrivals.append((lot, received))
                arrived_by = max(arrived_by, at)
            for lot, sender in onward:
                received, at = self.consign(lot, sender, proc, lot.on_hand(sender), self.later(t, 2, 10))
                arrivals.append((lot, received))
                arrived_by = max(arrived_by, at)
            t = self.later(arrived_by, 2, 20)
            outputs = []
            for run in self.runs(arrivals):
                t = self.later(t, 0.5, 4)
                outputs.extend(self.transform(proc, run, t))
            onward = []
            if level < depth:
                rng.shuffle(outputs)
                keep = [o for i, o in enumerate(outputs) if i == 0 or rng.random() < 0.75]
                onward = [(o, proc) for o in keep]
                outputs = [o for o in outputs if o not in keep]
            for out in outputs:
                consignments = rng.choices((1, 2, 3), (60, 30, 10))[0]
                shares = self.split(out.qty, consignments)
                for market, qty in zip(rng.sample(self.markets, len(shares)), shares, strict=True):
                    _arrived, at = self.consign(
                        out, proc, market, qty, self.later(t, 2, 12), gate=True, carrier_p=0.8
                    )
                    self.at_market(out, market, at, portion_p=0.42, most=6)
        self.finish()

    def runs(self, arrivals: list[tuple[Lot, int]]) -> list[list[tuple[Lot, int]]]:
        """Spread held lots over runs (about one run per two lots): every lot feeds one run, half
        of them also a second or third (its quantity split), so runs have 1-4 inputs and share
        sources; one lot in ten is not used up (the rest stays in the processor's stock)."""
        rng = self.rng
        lots = arrivals[:]
        rng.shuffle(lots)
        n_runs = max(1, round(len(lots) / 4))
        groups: list[list[tuple[Lot, int]]] = [[] for _ in range(n_runs)]
        for index, (lot, qty) in enumerate(lots):
            if rng.random() < 0.1:
                qty = qty * rng.randint(80, 95) // 100
            draw = rng.random()
            fan = 1 if draw < 0.25 or n_runs == 1 else 2 if draw < 0.7 or n_runs == 2 else 3
            home = index % n_runs
            targets = [home] + rng.sample([r for r in range(n_runs) if r != home], fan - 1)
            for run, share in zip(targets, self.split(qty, fan), strict=False):
                groups[run].append((lot, share))
        return [g for g in groups if g]

    def big_unit(self) -> None:
        """The recall case: one large producer batch processed with another into three outputs,
        each shipped to four markets, which portion them into many small portions, each sold a
        few times, until the batch's forward closure touches ``recall_events`` events."""
        rng = self.rng
        t = self.clock()
        farm = rng.choice([p for p in self.producers if p.products[0][1] == "vegetable"])
        big = self.producer_batch(t, qty=40_000_000, producer=farm)
        big.big = True
        self.big_code = big.code
        self.big_events = 0
        proc = rng.choice(self.processors)
        other = self.producer_batch(t, qty=2_000_000)
        received, _ = self.consign(big, farm, proc, big.qty, self.later(t, 1, 3), carrier_p=1.0)
        received2, at = self.consign(other, other.org, proc, other.qty, self.later(t, 1, 3))
        at = self.later(at, 12, 20)
        outs = self.transform(proc, [(big, received), (other, received2)], at, n_out=3)
        lots: list[tuple[Lot, Org, datetime]] = []
        for out in outs:
            shares = self.split(out.qty, 4)
            for market, qty in zip(rng.sample(self.markets, len(shares)), shares, strict=True):
                _arrived, at2 = self.consign(
                    out, proc, market, qty, self.later(at, 20, 40), gate=True, carrier_p=1.0
                )
                lots.append((out, market, at2))
        target = self.recall_events - 2 * len(lots) * 3  # room for the lots' final sales
        i = 0
        while self.big_events < target:
            out, market, when = lots[i % len(lots)]
            i += 1
            have = out.on_hand(market)
            if have < 60_000:
                if all(o.on_hand(m) < 60_000 for o, m, _w in lots):
                    break
                continue
            when = self.later(when, 0.1, 3)
            amounts = [rng.randint(10, 50) * 100 for _ in range(rng.randint(3, 6))]
            pieces = self.portion(market, out, amounts, when)
            for piece in pieces:
                self.sell_down(market, piece, when, rng.randint(1, 3), keep_p=0.1)
            lots[(i - 1) % len(lots)] = (out, market, when)
        for out, market, when in lots:
            self.sell_down(market, out, when, rng.randint(2, 4), keep_p=0.3)
        self.finish()

    def fill(self, certs: int, events: int) -> None:
        """Single producer batches that land both totals: e events each (0: still on the farm;
        1: in transit; 2: shipped and received; 3: with a carrier's leg; more: then sold)."""
        if certs <= 0:
            return
        base, extra = divmod(max(0, events), certs)
        rng = self.rng
        for n in range(certs):
            e = base + (1 if n < extra else 0)
            t = self.clock()
            lot = self.producer_batch(t)
            market = rng.choice(self.markets)
            if e >= 1:
                carrier = rng.choice(self.carriers) if e >= 3 else None
                ship_eid = self.ship(lot, lot.org, market, lot.qty, t, carrier)
                t = self.later(t, 1, 5)
                if e >= 3:
                    self.leg(lot, carrier, t, lot.qty)  # type: ignore[arg-type]
                    t = self.later(t, 1, 5)
                if e >= 2:
                    self.take_delivery(lot, lot.org, market, ship_eid, lot.qty, t, gate=False)
                    if e >= 4:
                        self.sell_down(market, lot, t, e - 3, keep_p=0)
            self.finish()

    def run(self, progress: Any = None) -> None:
        rng = self.rng
        margin_c = max(50, self.target_certs // 500)
        margin_e = int(margin_c * self.ratio)
        big_at = self.target_certs // 2 if self.recall_events else None
        depths = (1, 2, 3, 4)
        depth_weights = (10, 25, 40, 25)
        while self.n_certs + margin_c < self.target_certs and self.n_events + margin_e < self.target_events:
            if big_at is not None and self.n_certs >= big_at:
                self.big_unit()
                big_at = None
            elif rng.random() < 0.14:
                self.cluster(rng.choices(depths, depth_weights)[0])
            else:
                self.direct()
            if progress is not None:
                progress(self)
        if big_at is not None:
            self.big_unit()
        self.fill(self.target_certs - self.n_certs, self.target_events - self.n_events)
        if progress is not None:
            progress(self, final=True)


def _category(name: str) -> Any:
    from traceapp.certificates.models import Category

    return Category(name)


def product_rows(gen: Gen, ids: Ids) -> list[tuple]:
    return [(ids.uid(), org_id, name, cat, "kg", t) for (org_id, name), (cat, t) in gen.products.items()]


# --------------------------------------------------------------------------------------------
# Shape check: the real services against the generator.
# --------------------------------------------------------------------------------------------


def service_sample(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Record a small chain through the real services, read its rows back, roll it back."""
    from traceapp import db
    from traceapp.certificates.schemas import CertificateIn
    from traceapp.certificates.services import issue_certificate
    from traceapp.events.recording import EventSettings
    from traceapp.events.schemas import EventIn
    from traceapp.events.services import record_event
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role
    from traceapp.orgs.services import Actor

    settings = EventSettings.from_config(app.config)
    rows: dict[str, list[dict[str, Any]]] = {}
    with app.test_request_context():
        session = db.session()
        try:
            actors = {}
            for kind in ("producer", "producer2", "processor", "market", "carrier"):
                org = orgs.create_organisation(
                    session,
                    kind=OrgKind(kind.rstrip("2")),
                    name=f"样本{kind}",
                    region_code="420116",
                    phone="13800000000",
                    address="样本地址",
                )
                user = orgs.create_user(
                    session,
                    org_id=org.id,
                    email=f"{kind}@sample.example.cn",
                    password="sample-password-1",
                    role=Role.ADMIN,
                )
                actors[kind] = Actor.of(user)
            when = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
            step = iter(range(1000))

            def at() -> str:
                return (when + timedelta(hours=next(step))).astimezone(CHINA).isoformat()

            def cert(who: str, **body: Any) -> str:
                data = {
                    "product_name": "大白菜",
                    "category": "vegetable",
                    "quantity": "100",
                    "unit": "kg",
                    "origin": {"region_code": "420116", "address": "木兰乡"},
                    "harvest_date": "2025-05-31",
                    "commitments": PROMISES,
                    "basis": ["self_test"],
                    **body,
                }
                certificate, _ = issue_certificate(session, actors[who], data=CertificateIn().load(data))
                return certificate.trace_code

            def event(who: str, **body: Any) -> Any:
                data = EventIn().load({"event_id": str(uuid.uuid4()), "occurred_at": at(), **body})
                recorded, _ = record_event(session, actors[who], data=data, settings=settings)
                return recorded

            org_id = {k: str(a.org_id) for k, a in actors.items()}
            made_body = {
                "product_name": "净菜大白菜",
                "category": "vegetable",
                "unit": "kg",
                "origin": {"region_code": "420116"},
                "commitments": PROMISES,
                "basis": ["internal_qc"],
            }
            a = cert("producer", event_id=str(uuid.uuid4()), batch_no="20250531-01")
            b = cert("producer2", quantity="50")
            event(
                "producer",
                kind="shipping",
                trace_code=a,
                quantity="100",
                unit="kg",
                to_org=org_id["processor"],
                carrier_org=org_id["carrier"],
                location="木兰乡",
            )
            event(
                "carrier",
                kind="transporting",
                trace_code=a,
                quantity="100",
                unit="kg",
                temperatures=[
                    {"at": at(), "celsius": "3.5"},
                    {"at": at(), "celsius": "4.1"},
                    {"at": at(), "celsius": "6.2"},
                ],
            )
            event("carrier", kind="transporting", trace_code=a, temperature_min="2", temperature_max="6")
            event("carrier", kind="transporting", trace_code=a)
            event(
                "processor",
                kind="receiving",
                trace_code=a,
                quantity="99.5",
                unit="kg",
                temperature_min="2",
                temperature_max="4",
            )
            event(
                "producer2",
                kind="shipping",
                trace_code=b,
                quantity="50",
                unit="kg",
                to_org=org_id["processor"],
            )
            event("processor", kind="receiving", trace_code=b, quantity="50", unit="kg")
            made = event(
                "processor",
                kind="transforming",
                inputs=[
                    {"trace_code": a, "quantity": "99.5", "unit": "kg"},
                    {"trace_code": b, "quantity": "40", "unit": "kg"},
                ],
                outputs=[
                    {**made_body, "quantity": "60", "harvest_date": "2025-06-01", "batch_no": "P250601001"},
                    {**made_body, "quantity": "70"},
                ],
            )
            session.flush()
            outs = _outputs(session, made.id)
            event(
                "processor",
                kind="shipping",
                trace_code=outs[0],
                quantity="60",
                unit="kg",
                to_org=org_id["market"],
                carrier_org=org_id["carrier"],
            )
            event(
                "market",
                kind="inspecting",
                trace_code=outs[0],
                quantity="60",
                unit="kg",
                certificate_status="valid",
                result="accepted",
                location="样本市场 1区1号",
                tests=[
                    {
                        "method": "enzyme_inhibition",
                        "item": "有机磷和氨基甲酸酯类农药",
                        "value": "12.5",
                        "value_unit": "%",
                        "tester": "张检测员",
                        "tested_at": at(),
                    }
                ],
                brought_by={"name": "王师傅", "vehicle": "鄂A12345"},
            )
            event(
                "processor",
                kind="shipping",
                trace_code=outs[1],
                quantity="70",
                unit="kg",
                to_org=org_id["market"],
            )
            event(
                "market",
                kind="inspecting",
                trace_code=outs[1],
                quantity="70",
                unit="kg",
                certificate_status="valid",
                result="accepted",
                tests=[
                    {
                        "method": "colloidal_gold",
                        "item": "克伦特罗",
                        "result": "negative",
                        "tester": "张检测员",
                        "tested_at": at(),
                    }
                ],
            )
            portioned = event(
                "market",
                kind="portioning",
                trace_code=outs[0],
                outputs=[{"quantity": "10", "unit": "kg"}, {"quantity": "5", "unit": "kg"}],
            )
            session.flush()
            pieces = _outputs(session, portioned.id)
            event("market", kind="retail_selling", trace_code=pieces[0], quantity="4", unit="kg")
            event("market", kind="retail_selling", trace_code=outs[0], quantity="20", unit="kg")
            c = cert("producer", quantity="30")
            event(
                "producer", kind="shipping", trace_code=c, quantity="30", unit="kg", to_org=org_id["market"]
            )
            event("market", kind="receiving", trace_code=c, quantity="30", unit="kg")
            session.flush()
            conn = session.connection()
            for table in (
                "organisations",
                "certificates",
                "holdings",
                "events",
                "event_items",
                "holding_changes",
                "temperature_readings",
            ):
                cols = COLUMNS[table]
                result = conn.exec_driver_sql(f"SELECT {', '.join(cols)} FROM {table}")
                rows[table] = [dict(zip(cols, r, strict=True)) for r in result]
        finally:
            session.rollback()
    return rows


def _outputs(session: Any, event_id: Any) -> list[str]:
    return list(
        session.scalars(
            sa.text(
                "SELECT c.trace_code FROM event_items i JOIN certificates c ON c.id = i.certificate_id "
                "WHERE i.event_id = :e AND i.role = 'output' ORDER BY i.position"
            ),
            {"e": event_id},
        )
    )


def _s(value: Any) -> str | None:
    return None if value is None else str(value).replace("-", "")


def signatures(rows: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], set]:
    """Structural facets per event kind and certificate kind: (kind, facet) → values seen.

    Facets are compared one by one, so the services' sample needs to show each variant of each
    facet once, not every combination.
    """
    org_kind = {_s(o["id"]): o["kind"] for o in rows["organisations"]}
    items, changes, readings = defaultdict(list), defaultdict(list), Counter()
    for i in rows["event_items"]:
        items[_s(i["event_id"])].append(i)
    for c in rows["holding_changes"]:
        changes[_s(c["event_id"])].append(c)
    for r in rows["temperature_readings"]:
        readings[_s(r["event_id"])] += 1
    certs = {_s(c["id"]): c for c in rows["certificates"]}
    facets: dict[tuple[str, str], set] = defaultdict(set)
    for e in rows["events"]:
        eid, kind = _s(e["id"]), e["kind"]
        details = e["details"] if isinstance(e["details"], dict) else json.loads(e["details"])
        org, src, dst = _s(e["org_id"]), _s(e["source_org_id"]), _s(e["destination_org_id"])

        def who(o: str | None, org: str | None = org, dst: str | None = dst, src: str | None = src) -> str:
            return "actor" if o == org else "destination" if o == dst else "source" if o == src else "other"

        ordered = sorted(items[eid], key=lambda i: i["position"])
        roles = [i["role"] for i in ordered]
        seen = {
            "epcis": (e["epcis_type"], e["action"], e["biz_step"], e["disposition"], e["tz_offset"]),
            "recorder": org_kind[org],
            "parties": (
                src is not None,
                dst is not None,
                e["answers_id"] is not None,
                None if src is None else who(src),
                None if dst is None else who(dst),
            ),
            "carrier": (
                e["carrier_org_id"] is not None,
                None if e["carrier_org_id"] is None else org_kind[_s(e["carrier_org_id"])],
            ),
            "ids": (
                e["request_digest"] is not None and len(e["request_digest"]) == 64,
                e["recorded_by_id"] is not None,
                e["client_event_id"] is not None,
                e["corrects_id"] is None and e["correction_reason"] is None,
            ),
            "details": tuple(sorted(details)),
            "cold_chain": tuple(sorted(details["cold_chain"])) if "cold_chain" in details else None,
            "tests": tuple(sorted({k for t in details.get("tests", []) for k in t})),
            "items": tuple(sorted({(i["role"], i["quantity"] is not None, i["unit"]) for i in ordered})),
            "item_order": (
                [i["position"] for i in ordered] == list(range(len(ordered))),
                roles == sorted(roles, key=lambda r: r != "input"),
            ),
            "ledger": tuple(
                sorted({(c["state"], c["delta"] > 0, who(_s(c["org_id"]))) for c in changes[eid]})
            ),
            "ledger_balance": _balance(kind, details, ordered, changes[eid]),
            "readings": readings[eid] > 0,
            "times": (e["occurred_at"].tzinfo is not None, e["occurred_at"] <= e["recorded_at"]),
        }
        for facet, value in seen.items():
            facets[(kind, facet)].add(value)
        # Portions carry their source's fields; outputs are new certificates of the recorder.
        for i in ordered:
            if i["role"] == "output":
                c = certs[_s(i["certificate_id"])]
                source = certs[_s(next(x["certificate_id"] for x in ordered if x["role"] == "input"))]
                facets[("output:" + c["kind"], "made")].add(
                    (
                        kind,
                        _s(c["org_id"]) == org,
                        all(_norm(c[f]) == _norm(source[f]) for f in INHERITED),
                        i["quantity"] == c["quantity"],
                    )
                )
    for c in rows["certificates"]:
        kind = "certificate:" + c["kind"]
        for facet, value in {
            "issuer": org_kind[_s(c["org_id"])],
            "ids": (c["client_event_id"] is not None, c["request_digest"] is not None),
            "promise": (
                tuple(_norm(c["commitments"])),
                bool(_norm(c["basis"])),
                c["lab_name"],
                c["report_id"],
            ),
            "producer": (c["producer_name"] is not None, c["producer_region_code"] is not None),
            "unit": c["unit"],
            "issued_at": c["issued_at"].tzinfo is not None,
        }.items():
            facets[(kind, facet)].add(value)
    return facets


def _balance(
    kind: str, details: dict[str, Any], items: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> Any:
    """How the ledger relates to the items: totals per role against totals per sign."""
    given = sum(i["quantity"] or 0 for i in items if i["role"] in ("subject", "input"))
    taken = -sum(c["delta"] for c in changes if c["delta"] < 0)
    put = sum(c["delta"] for c in changes if c["delta"] > 0)
    if kind == "receiving" or (kind == "inspecting" and "shipped" in details):
        return ("delivery", put == given, taken == Decimal(details["shipped"]) * 1000)
    return (kind, taken == given if changes else None, put == (given if put else 0))


def _norm(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "[":
        return json.loads(value)
    return value


def holdings_mismatches(rows: dict[str, list[dict[str, Any]]]) -> int:
    """Holdings that differ from issue + ledger, or ledger groups without a holdings row."""
    expected: Counter[tuple] = Counter()
    for c in rows["certificates"]:
        expected[(_s(c["id"]), _s(c["org_id"]), "on_hand")] += c["quantity"]
    for ch in rows["holding_changes"]:
        expected[(_s(ch["certificate_id"]), _s(ch["org_id"]), ch["state"])] += ch["delta"]
    held = {(_s(h["certificate_id"]), _s(h["org_id"]), h["state"]): h["quantity"] for h in rows["holdings"]}
    return sum(1 for key in set(expected) | set(held) if expected.get(key) != held.get(key))


def shape_check(app: Any, settings: Any) -> list[str]:
    """Differences between the services' rows and the generator's, per kind (empty: same shape)."""
    service = service_sample(app)
    rng = random.Random(7)
    ids = Ids(rng)
    sink = ListSink()
    world = make_world(rng, ids, producers=40, markets=6, processors=8, carriers=2)
    write_world(sink, world, "x")
    gen = Gen(
        sink, world, rng, ids, target_certs=4000, target_events=20000, recall_events=600, settings=settings
    )
    gen.run()
    generated = {t: sink.dicts(t) for t in COLUMNS}
    problems = []
    want, got = signatures(service), signatures(generated)
    for key in sorted(set(want) | set(got)):
        kind, facet = key
        if key not in got:
            problems.append(f"{kind} {facet}: made by the services, never by the generator")
            continue
        for value in sorted(got[key] - want.get(key, set()), key=repr):
            problems.append(
                f"{kind} {facet}: generated {value!r}; the services made "
                f"{sorted(want.get(key, set()), key=repr)!r}"
            )
    for name, rows in (("services", service), ("generator", generated)):
        bad = holdings_mismatches(rows)
        if bad:
            problems.append(f"{name}: {bad} holdings differ from issue + ledger")
    for lot_code in [c["trace_code"] for c in generated["certificates"][:200]]:
        if codes.normalize_trace_code(lot_code) != lot_code:
            problems.append(f"generator: invalid trace code {lot_code}")
            break
    return problems


# --------------------------------------------------------------------------------------------
# Database: create, drop and restore constraints, load, check.
# --------------------------------------------------------------------------------------------


def conninfo_of(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    target = sa.engine.make_url(url)
    if not (target.database or "").startswith("bench"):
        raise SystemExit("refusing: the database name must start with 'bench'")
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


SNAPSHOT_SQL = """
SELECT 'constraint', c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
  AND c.conrelid::regclass::text <> 'alembic_version'
UNION ALL
SELECT 'index', i.tablename, i.indexname, '', i.indexdef FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename <> 'alembic_version'
  AND i.indexname NOT IN (SELECT conname FROM pg_constraint)
ORDER BY 1, 2, 3
"""


def snapshot(conn: psycopg.Connection) -> list[tuple[str, str, str, str, str]]:
    return [tuple(r) for r in conn.execute(SNAPSHOT_SQL)]


def drop_constraints(conn: psycopg.Connection, snap: list[tuple]) -> None:
    for _what, table, name, kind, _d in snap:
        if kind == "f":
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _what, table, name, kind, _d in snap:
        if kind in ("p", "u"):
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for what, _table, name, _kind, _d in snap:
        if what == "index":
            conn.execute(f'DROP INDEX "{name}"')
    conn.commit()


def restore_constraints(conninfo: str, snap: list[tuple], log: Any) -> None:
    """Primary keys and unique constraints, then indexes, then foreign keys (validated).

    Two connections build at once (two cores); each build may also use parallel workers."""

    def statements(kinds: tuple[str, ...]) -> list[tuple[str, str, str]]:
        out = []
        for what, table, name, kind, definition in snap:
            if what == "index" and "i" in kinds:
                out.append((table, name, definition))
            elif what == "constraint" and kind in kinds:
                out.append((table, name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        return out

    import threading

    def run_all(todo: list[tuple[str, str]]) -> None:
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '1GB'")
                conn.execute("SET work_mem = '256MB'")
                while True:
                    with lock:
                        if not todo or errors:
                            return
                        name, sql = todo.pop(0)
                    started = time.perf_counter()
                    try:
                        conn.execute(sql)
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        errors.append(exc)
                        return
                    if time.perf_counter() - started >= 1:
                        log(f"    {name}: {time.perf_counter() - started:.1f} s")

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    # Largest tables first so the two connections finish together.
    biggest = ("event_items", "holding_changes", "events", "holdings", "certificates")
    rank = {t: n for n, t in enumerate(biggest)}

    def by_size(todo: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        return [(name, sql) for _t, name, sql in sorted(todo, key=lambda s: rank.get(s[0], 9))]

    run_all(by_size(statements(("p", "u"))))
    run_all(by_size(statements(("i",))))
    run_all(by_size(statements(("f",))))


def load(url: str, args: argparse.Namespace, app: Any, log: Any, started_all: float) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    from traceapp.events.recording import EventSettings

    timings: dict[str, float] = {}
    info: dict[str, Any] = {}
    settings = EventSettings.from_config(app.config)
    conninfo = conninfo_of(url)

    if not args.skip_shape_check:
        started = time.perf_counter()
        problems = shape_check(app, settings)
        timings["shape_check_s"] = time.perf_counter() - started
        if problems:
            for p in problems[:40]:
                log("SHAPE: " + p)
            raise ShapeError(f"{len(problems)} shape differences")
        log(f"shape check: generator rows match the services' rows ({timings['shape_check_s']:.1f} s)")

    with psycopg.connect(conninfo) as conn:
        snap = snapshot(conn)
        drop_constraints(conn, snap)
    log(f"dropped {len(snap)} constraints and indexes for the load")

    rng = random.Random(args.seed)
    ids = Ids(rng)
    world = make_world(rng, ids)
    started = time.perf_counter()
    sink = CopySink(conninfo, ("organisations", "users"))
    ok = False
    try:
        write_world(sink, world, generate_password_hash("bench-only-password"))
        ok = True
    finally:
        sink.close(ok)

    sink = CopySink(conninfo, BULK_TABLES)
    gen = Gen(
        sink,
        world,
        rng,
        ids,
        target_certs=args.certificates,
        target_events=args.events,
        recall_events=args.recall_events,
        settings=settings,
    )
    last = [time.perf_counter()]

    def progress(g: Gen, final: bool = False) -> None:
        now = time.perf_counter()
        if final or now - last[0] >= 30:
            last[0] = now
            rate = g.n_events / max(1e-9, now - started)
            log(
                f"  generated {g.n_certs:>9,} certificates, {g.n_events:>9,} events "
                f"({now - started:6.0f} s, {rate:,.0f} events/s)"
            )

    ok = False
    try:
        gen.run(progress)
        ok = True
    finally:
        sink.close(ok)
    sink = CopySink(conninfo, ("products",))
    ok = False
    try:
        for row in product_rows(gen, ids):
            sink.writer("products")(row)
        ok = True
    finally:
        sink.close(ok)
    timings["generate_copy_s"] = time.perf_counter() - started
    log(
        f"generated and copied in {timings['generate_copy_s']:.0f} s; big batch {gen.big_code} "
        f"touches {gen.big_events:,} events"
    )

    started = time.perf_counter()
    restore_constraints(conninfo, snap, log)
    timings["constraints_s"] = time.perf_counter() - started
    with psycopg.connect(conninfo) as conn:
        if snapshot(conn) != snap:
            raise CheckError("constraints and indexes differ from the migrated schema after the load")
    log(f"constraints, indexes and foreign keys re-created and validated in {timings['constraints_s']:.0f} s")

    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("VACUUM (ANALYZE)")
    timings["vacuum_analyze_s"] = time.perf_counter() - started
    log(f"VACUUM (ANALYZE) in {timings['vacuum_analyze_s']:.0f} s")

    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET work_mem = '512MB'")
        bad, total = conn.execute(HOLDINGS_CHECK_SQL).fetchone()  # type: ignore[misc]
    timings["holdings_check_s"] = time.perf_counter() - started
    log(
        f"holdings check: {bad} of {total:,} holdings differ from issue + ledger "
        f"({timings['holdings_check_s']:.0f} s)"
    )
    if bad:
        raise CheckError(f"{bad} holdings differ from issue + ledger")

    timings["total_load_s"] = time.perf_counter() - started_all
    info.update(
        {
            "complete": True,
            "certificates": args.certificates,
            "events": args.events,
            "recall_events": args.recall_events,
            "seed": args.seed,
            "big_code": gen.big_code,
            "big_events": gen.big_events,
            "event_kinds": dict(gen.kinds),
            "cluster_depths": dict(gen.depths),
            "readings": gen.n_readings,
            "timings": timings,
        }
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        name = sa.engine.make_url(url).database
        conn.execute(f'COMMENT ON DATABASE "{name}" IS {_literal(json.dumps(info))}')
    return info


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


HOLDINGS_CHECK_SQL = """
WITH expected AS (
    SELECT certificate_id, org_id, state, sum(q) AS q FROM (
        SELECT certificate_id, org_id, state, delta AS q FROM holding_changes
        UNION ALL
        SELECT id, org_id, 'on_hand', quantity FROM certificates) x
    GROUP BY certificate_id, org_id, state)
SELECT count(*) FILTER (WHERE h.quantity IS DISTINCT FROM e.q), count(*)
FROM expected e FULL JOIN holdings h USING (certificate_id, org_id, state)
"""


class ShapeError(Exception):
    pass


class CheckError(Exception):
    pass


def stored_info(url: str) -> dict[str, Any] | None:
    """The load's record (the database comment) if the database exists and says it is complete."""
    target = sa.engine.make_url(url)
    try:
        with psycopg.connect(conninfo_of(url)) as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (target.database,),
            ).fetchone()
            if not row or not row[0]:
                return None
            info = json.loads(row[0])
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM certificates), (SELECT count(*) FROM events)"
            ).fetchone()
            info["found"] = {"certificates": counts[0], "events": counts[1]}  # type: ignore[index]
            return info
    except psycopg.OperationalError:
        return None


def database_size(conninfo: str) -> dict[str, Any]:
    with psycopg.connect(conninfo) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        tables = conn.execute(
            "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), c.reltuples::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "ORDER BY pg_total_relation_size(c.oid) DESC"
        ).fetchall()
    return {
        "bytes": total,
        "tables": [{"table": t, "table_bytes": s, "index_bytes": i, "rows": r} for t, s, i, r in tables],
    }


# --------------------------------------------------------------------------------------------
# Measurements.
# --------------------------------------------------------------------------------------------


def pick_codes(conninfo: str, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(code, direction, what) for n random codes: half producer batches forward, half backward
    (60 % portions, 40 % processor outputs), shuffled; the same codes for the same seed."""
    forward, portions = n // 2, (n - n // 2) * 3 // 5
    outputs = n - forward - portions
    with psycopg.connect(conninfo) as conn:
        # A seeded hash order, not random(): the same codes whatever order the scan returns rows in.
        sql = (
            "SELECT c.trace_code FROM certificates c JOIN organisations o ON o.id = c.org_id "
            "WHERE {} ORDER BY md5(c.id::text || %s) LIMIT %s"
        )
        picked = [
            (code, "forward", "producer batch")
            for (code,) in conn.execute(sql.format("o.kind = 'producer'"), (str(seed), forward))
        ]
        picked += [
            (code, "backward", "portion")
            for (code,) in conn.execute(sql.format("c.kind = 'portion'"), (str(seed), portions))
        ]
        picked += [
            (code, "backward", "processor output")
            for (code,) in conn.execute(sql.format("o.kind = 'processor'"), (str(seed), outputs))
        ]
    random.Random(seed).shuffle(picked)
    return picked


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def regulator_actor(conninfo: str) -> Any:
    import uuid

    from traceapp.orgs.models import OrgKind, Role
    from traceapp.orgs.services import Actor

    with psycopg.connect(conninfo) as conn:
        user_id, org_id = conn.execute(
            "SELECT u.id, o.id FROM users u JOIN organisations o ON o.id = u.org_id "
            "WHERE o.kind = 'regulator' ORDER BY o.name LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    return Actor(uuid.UUID(str(user_id)), uuid.UUID(str(org_id)), OrgKind.REGULATOR, Role.ADMIN)


def trace_once(app: Any, actor: Any, code: str, direction: str) -> tuple[float, float, dict[str, Any]]:
    from traceapp import db
    from traceapp.certificates.queries import find_by_code
    from traceapp.recalls.queries import trace_document

    with app.test_request_context():
        session = db.session()
        started = time.perf_counter()
        certificate = find_by_code(session, code)
        found = time.perf_counter()
        document = trace_document(session, actor, certificate, direction=direction, base_url="https://x")
        done = time.perf_counter()
    return found - started, done - found, document


def measure_traces(app: Any, actor: Any, picked: list[tuple[str, str, str]], log: Any) -> dict[str, Any]:
    for code, direction, _what in picked[-20:]:
        trace_once(app, actor, code, direction)  # warm-up, not timed (connection pool, caches)
    results: dict[str, list[tuple[float, int, int, float]]] = defaultdict(list)
    unbalanced = 0
    for n, (code, direction, what) in enumerate(picked, 1):
        lookup, seconds, document = trace_once(app, actor, code, direction)
        unbalanced += sum(1 for b in document["batches"] if Decimal(b["mass_balance"]["unaccounted"]) != 0)
        sample = (seconds, len(document["batches"]), len(document["links"]), lookup)
        results[direction].append(sample)
        results[f"{direction}:{what}"].append(sample)
        if n % 100 == 0:
            log(f"  {n} traces")
    summary: dict[str, Any] = {}
    for key, rows in results.items():
        times = [r[0] * 1000 for r in rows]
        batches = [r[1] for r in rows]
        summary[key] = {
            "n": len(rows),
            "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "max_ms": max(times),
            "median_batches": percentile(batches, 50),
            "p95_batches": percentile(batches, 95),
            "max_batches": max(batches),
            "median_links": percentile([r[2] for r in rows], 50),
            "lookup_p50_ms": percentile([r[3] * 1000 for r in rows], 50),
        }
    summary["unbalanced_batches"] = unbalanced
    return summary


def measure_recall(app: Any, actor: Any, conninfo: str, big_code: str, log: Any) -> dict[str, Any]:
    from traceapp import db
    from traceapp.recalls import export
    from traceapp.recalls.models import Severity
    from traceapp.recalls.services import open_recall

    with psycopg.connect(conninfo) as conn:  # earlier runs' recalls: gone, so every run measures the same
        for table in RECALL_TABLES:
            conn.execute(f"DELETE FROM {table}")
    result: dict[str, Any] = {}
    with app.test_request_context():
        session = db.session()
        started = time.perf_counter()
        recall = open_recall(
            session,
            actor,
            data={
                "trace_codes": [big_code],
                "reason": "农残超标 organophosphate over limit (benchmark)",
                "severity": Severity.CLASS_I,
                "instructions": "停止销售并退回 / stop selling and return",
            },
        )
        session.commit()
        result["open_recall_s"] = time.perf_counter() - started
        recall_id = recall.id
    with psycopg.connect(conninfo) as conn:
        result["recall_batches"] = conn.execute(
            "SELECT count(*) FROM recall_batches WHERE recall_id = %s", (recall_id,)
        ).fetchone()[0]  # type: ignore[index]
        result["recall_parties"] = conn.execute(
            "SELECT count(*) FROM recall_parties WHERE recall_id = %s", (recall_id,)
        ).fetchone()[0]  # type: ignore[index]
    with app.test_request_context():
        session = db.session()
        started = time.perf_counter()
        pieces = list(export.to_csv(session, recall_id, columns="en"))
        result["csv_s"] = time.perf_counter() - started
    text = "".join(pieces)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    result["csv_rows"] = len(table)
    result["csv_bytes"] = len(text.encode())
    result["events"] = len({r[14] for r in table if r[7] != "commissioning"})
    result["batches"] = len({r[0] for r in table})
    (OUT / "trace-recall.csv").write_text(text, encoding="utf-8")
    with app.test_request_context():
        session = db.session()
        started = time.perf_counter()
        data = export.to_xlsx(session, recall_id, columns="en")
        result["xlsx_s"] = time.perf_counter() - started
    result["xlsx_bytes"] = len(data)
    (OUT / "trace-recall.xlsx").write_bytes(data)
    return result


def explain(app: Any, actor: Any, cases: list[tuple[str, str, str]], recall_chunk: bool, log: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) every statement of a trace (and of the export's first chunk)."""
    from traceapp import db
    from traceapp.certificates.queries import find_by_code
    from traceapp.recalls import export
    from traceapp.recalls.queries import trace_document

    engine = app.extensions["traceapp.db"].engine
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    out = io.StringIO()
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for code, direction, label in cases:
            captured.clear()
            with app.test_request_context():
                session = db.session()
                certificate = find_by_code(session, code)
                trace_document(session, actor, certificate, direction=direction, base_url="https://x")
            _explain_captured(engine, captured, out, f"{label} ({direction} {code})")
        if recall_chunk:
            captured.clear()
            with app.test_request_context():
                session = db.session()
                recall_id = session.scalar(sa.text("SELECT id FROM recalls ORDER BY opened_at DESC LIMIT 1"))
                for _row in export.rows(session, recall_id):
                    if len(captured) >= 4:
                        break
            _explain_captured(engine, captured, out, "recall export, first chunk")
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return out.getvalue()


def _explain_captured(engine: Any, captured: list[tuple[str, Any]], out: io.StringIO, title: str) -> None:
    statements = list(captured)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            rows = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
            out.write(f"==== {title}\n{_shorten(statement)}\n")
            out.write("\n".join(r[0] for r in rows) + "\n\n")
        conn.rollback()


def _shorten(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) < 600 else flat[:600] + " ..."


# --------------------------------------------------------------------------------------------
# Main.
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--recall-events", type=int, default=10_000)
    parser.add_argument("--traces", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 certificates, 100,000 events")
    parser.add_argument("--reuse", action="store_true", help="keep a complete database, skip generation")
    parser.add_argument("--dry-run", action="store_true", help="generate into memory only; print stats")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries of a few traces")
    parser.add_argument("--profile", action="store_true", help="cProfile traces and the export")
    parser.add_argument("--skip-shape-check", action="store_true")
    parser.add_argument(
        "--fix",
        action="append",
        choices=sorted(FIXES),
        default=[],
        help="measure with a proposed fix (repeatable): "
        + "; ".join(f"{k}: {v}" for k, v in sorted(FIXES.items())),
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.certificates, args.events = 20_000, 100_000
    OUT.mkdir(exist_ok=True)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    if args.dry_run:
        return dry_run(args, log)

    from traceapp import create_app

    url = args.database_url
    conninfo = conninfo_of(url)
    report: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    info = stored_info(url) if args.reuse else None
    reusable = bool(
        info
        and info.get("complete")
        and info.get("seed") == args.seed
        and info.get("certificates") == args.certificates
        and info.get("events") == args.events
        and info.get("recall_events") == args.recall_events
        and info["found"] == {"certificates": args.certificates, "events": args.events}
    )
    if args.reuse and not reusable:
        log(
            f"--reuse: {url} is missing, incomplete or of other sizes "
            f"({info and info.get('found')}); generating"
        )
    started_all = time.perf_counter()
    if reusable:
        found = info["found"]
        log(f"reusing {url}: {found['certificates']:,} certificates, {found['events']:,} events")
    else:
        try:
            recreate_database(url)
            migrate.upgrade(make_engine(url))
        except Exception as exc:  # noqa: BLE001
            log(f"setup failed: {exc}")
            return 2
        log(f"created and migrated {url}")
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
        try:
            info = load(url, args, app, log, started_all)
        except (ShapeError, CheckError) as exc:
            log(f"FAILED: {exc}")
            return 1
        app.extensions["traceapp.db"].dispose()
        log(f"load complete in {info['timings']['total_load_s']:.0f} s")
    assert info is not None
    report["load"] = {k: v for k, v in info.items() if k != "found"}
    report["database"] = database_size(conninfo)
    with psycopg.connect(conninfo) as conn:
        report["jit"] = conn.execute("SHOW jit").fetchone()[0]  # type: ignore[index]
        report["shared_buffers"] = conn.execute("SHOW shared_buffers").fetchone()[0]  # type: ignore[index]

    fixes = sorted(set(args.fix))
    report["fixes"] = fixes
    app_url = url
    if "jit-off" in fixes:
        app_url = url + ("&" if "?" in url else "?") + "options=-cjit%3Doff"
    app = create_app({"DATABASE_URL": app_url, "SECRET_KEY": "bench", "TESTING": True})
    if "gc-freeze" in fixes:
        gc.freeze()  # what a gunicorn post_fork hook (or wsgi.py after create_app) would do
    if "stats" in fixes:
        log("fix stats: statistics target 1000 on the certificate_id columns, ANALYZE (reverted at the end)")
        set_statistics(conninfo, 1000)
    try:
        return measure(app, url, conninfo, info, args, report, log)
    finally:
        if "stats" in fixes:
            set_statistics(conninfo, -1)
            log("fix stats: reverted to the default statistics target and re-analysed")


FIXES = {
    "stats": "SET STATISTICS 1000 on event_items/holding_changes/holdings.certificate_id, then ANALYZE",
    "gc-freeze": "gc.freeze() after create_app (move the app's start-up objects out of the collector)",
    "jit-off": "connect with options=-cjit=off (no JIT compilation of big plans)",
}
STATS_COLUMNS = (
    ("event_items", "certificate_id"),
    ("holding_changes", "certificate_id"),
    ("holdings", "certificate_id"),
)


def set_statistics(conninfo: str, target: int) -> None:
    """Per-column statistics target (-1: the default), then ANALYZE those columns."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table, column in STATS_COLUMNS:
            conn.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {target}")
        for table, column in STATS_COLUMNS:
            conn.execute(f"ANALYZE {table} ({column})")


def measure(
    app: Any,
    url: str,
    conninfo: str,
    info: dict[str, Any],
    args: argparse.Namespace,
    report: dict[str, Any],
    log: Any,
) -> int:
    with psycopg.connect(conninfo) as conn:
        report["n_distinct"] = {
            f"{t}.{c}": float(n)
            for t, c, n in conn.execute(
                "SELECT tablename, attname, n_distinct FROM pg_stats WHERE attname = 'certificate_id' "
                "AND tablename IN ('event_items', 'holding_changes', 'holdings') ORDER BY 1"
            )
        }
    actor = regulator_actor(conninfo)
    picked = pick_codes(conninfo, args.traces, args.seed)
    log(f"tracing {len(picked)} random codes (in-process, trace_document per request context)")
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    report["traces"] = measure_traces(app, actor, picked, log)
    big_times = []
    for _ in range(3):
        _lookup, seconds, document = trace_once(app, actor, info["big_code"], "forward")
        big_times.append(seconds)
    report["big_forward"] = {
        "best_s": min(big_times),
        "worst_s": max(big_times),
        "batches": len(document["batches"]),
    }
    log("recall of the big batch: open_recall, export.to_csv, export.to_xlsx")
    report["recall"] = measure_recall(app, actor, conninfo, info["big_code"], log)
    if profiler:
        profiler.disable()
        profiler.dump_stats(OUT / "trace.prof")
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(30)
        (OUT / "trace-profile.txt").write_text(stream.getvalue())
        log(f"profile: {OUT / 'trace-profile.txt'}")
    if args.explain:
        fwd = [p for p in picked if p[1] == "forward"][:2]
        back = [p for p in picked if p[1] == "backward"][:2]
        cases = [(c, d, f"random {w}") for c, d, w in fwd + back]
        cases.append((info["big_code"], "forward", "big batch"))
        text = explain(app, actor, cases, True, log)
        (OUT / "trace-explain.txt").write_text(text)
        report["explain"] = str(OUT / "trace-explain.txt")
        report["jit_used"] = "JIT:" in text
        log(f"EXPLAIN ANALYZE written to {OUT / 'trace-explain.txt'} (JIT used: {report['jit_used']})")
    report["profiled"] = bool(args.profile)
    name = "trace" + "".join(f"-{f}" for f in report["fixes"]) + ".json"
    (OUT / name).write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    print_report(report)
    return 0


def print_report(report: dict[str, Any]) -> None:
    load_info, traces, recall = report["load"], report["traces"], report["recall"]
    t = load_info.get("timings", {})
    print()
    if report.get("fixes"):
        print("WITH PROPOSED FIXES: " + ", ".join(f"{f} ({FIXES[f]})" for f in report["fixes"]))
    if report.get("profiled"):
        print("NOTE: run under cProfile (--profile): the timings below are inflated, not comparable")
    print(
        f"Database: {report['database']['bytes'] / 2**30:.2f} GiB; "
        f"{load_info['certificates']:,} certificates, {load_info['events']:,} events; "
        f"PostgreSQL jit={report['jit']}, shared_buffers={report['shared_buffers']}"
    )
    if t:
        print(
            f"Load: generate+COPY {t.get('generate_copy_s', 0):.0f} s, constraints/indexes/FKs "
            f"{t.get('constraints_s', 0):.0f} s, VACUUM ANALYZE {t.get('vacuum_analyze_s', 0):.0f} s, "
            f"holdings check {t.get('holdings_check_s', 0):.0f} s, total {t.get('total_load_s', 0):.0f} s "
            f"(shape check and database creation included)"
        )
    for row in report["database"]["tables"][:7]:
        print(
            f"  {row['table']:<22} ~{row['rows']:>11,} rows  table {row['table_bytes'] / 2**20:8.0f} MiB  "
            f"indexes {row['index_bytes'] / 2**20:8.0f} MiB"
        )
    print()
    print("In-process timings (trace_document per request context; not HTTP)")
    print(
        f"{'measurement':<44}{'n':>5}{'p50':>10}{'p95':>10}{'max':>10}{'batches p50/p95/max':>22}"
        f"{'target':>12}  verdict"
    )
    for key in (
        "forward",
        "backward",
        "forward:producer batch",
        "backward:portion",
        "backward:processor output",
    ):
        s = traces.get(key)
        if not s:
            continue
        target = "p95<200ms" if ":" not in key else ""
        verdict = ("PASS" if s["p95_ms"] < 200 else "BELOW TARGET") if target else ""
        print(
            f"{'trace ' + key:<44}{s['n']:>5}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms"
            f"{s['max_ms']:>8.1f}ms"
            f"{s['median_batches']:>10}/{s['p95_batches']}/{s['max_batches']:<8}{target:>12}  {verdict}"
        )
    big = report["big_forward"]
    print(
        f"{'trace forward, big recall batch (best of 3)':<44}{3:>5}{'':>20}{big['worst_s'] * 1000:>8.0f}ms"
        f"{big['batches']:>10}        {'':>12}  (best {big['best_s'] * 1000:.0f} ms)"
    )
    print(
        f"find_by_code p50: {traces['forward']['lookup_p50_ms']:.2f} ms; "
        "batches with unaccounted quantity: "
        f"{traces['unbalanced_batches']}; n_distinct estimates: {report.get('n_distinct')}"
    )
    print()
    print(
        f"Recall of the big batch: {recall['batches']:,} batches, {recall['events']:,} events, "
        f"{recall['csv_rows']:,} rows, {recall['recall_parties']} parties"
    )
    for label, key, target in (
        ("open_recall (+ commit)", "open_recall_s", None),
        ("export.to_csv", "csv_s", 5.0),
        ("export.to_xlsx", "xlsx_s", 5.0),
    ):
        verdict = "" if target is None else ("PASS" if recall[key] < target else "BELOW TARGET")
        print(f"  {label:<26}{recall[key]:>8.2f} s   {'< 5 s' if target else '':<6}  {verdict}")
    print(
        f"  (CSV {recall['csv_bytes'] / 2**20:.1f} MiB, XLSX {recall['xlsx_bytes'] / 2**20:.1f} MiB, "
        f"in {OUT})"
    )


def dry_run(args: argparse.Namespace, log: Any) -> int:
    """Generate into memory (at most 200,000 certificates) and print counts and closure sizes."""
    from traceapp.config import defaults
    from traceapp.events.recording import EventSettings

    settings = EventSettings.from_config(defaults("/tmp"))
    certs = min(args.certificates, 100_000)
    events = args.events * certs // args.certificates
    rng = random.Random(args.seed)
    ids = Ids(rng)
    world = make_world(rng, ids)
    sink = ListSink()
    write_world(sink, world, "x")
    gen = Gen(
        sink,
        world,
        rng,
        ids,
        target_certs=certs,
        target_events=events,
        recall_events=args.recall_events,
        settings=settings,
    )
    started = time.perf_counter()
    gen.run()
    log(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{t} {len(r):,}" for t, r in sink.rows.items())
    )
    log(f"kinds: {dict(gen.kinds)}; depths: {dict(gen.depths)}; big batch touches {gen.big_events} events")
    fwd, back = defaultdict(set), defaultdict(set)
    by_event: dict[str, list[tuple]] = defaultdict(list)
    for row in sink.rows["event_items"]:
        by_event[row[0]].append(row)
    for rows in by_event.values():
        ins = [r[2] for r in rows if r[3] == "input"]
        outs = [r[2] for r in rows if r[3] == "output"]
        for i in ins:
            fwd[i].update(outs)
        for o in outs:
            back[o].update(ins)
    org_kind = {row[0]: row[1] for row in sink.rows["organisations"]}
    certs_rows = sink.rows["certificates"]
    producer = [c[0] for c in certs_rows if org_kind[c[3]] == "producer"]
    portions = [c[0] for c in certs_rows if c[2] == "portion"]
    outputs = [c[0] for c in certs_rows if org_kind[c[3]] == "processor"]

    def closure(start: str, graph: dict[str, set]) -> int:
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return len(seen)

    sample = random.Random(3)
    for label, pool, graph in (
        ("forward from producer batches", producer, fwd),
        ("backward from portions", portions, back),
        ("backward from processor outputs", outputs, back),
    ):
        sizes = sorted(closure(c, graph) for c in sample.sample(pool, min(2000, len(pool))))
        log(
            f"{label}: n={len(pool):,} p25 {percentile(sizes, 25)}, median {percentile(sizes, 50)}, "
            f"p75 {percentile(sizes, 75)}, p95 {percentile(sizes, 95)}, "
            f"max {sizes[-1]}, share >1: {sum(s > 1 for s in sizes) / len(sizes):.0%}"
        )
    depth = {}

    def levels(c: str) -> int:
        if c not in depth:
            depth[c] = 0
            depth[c] = 1 + max((levels(p) for p in back.get(c, ())), default=-1)
        return depth[c]

    deepest = max(levels(c) for c in portions + outputs)
    log(f"deepest backward chain (levels of transformation/portioning): {deepest}")
    log(
        f"certificate kinds: {Counter(c[2] for c in certs_rows)}; by issuer: "
        f"{Counter(org_kind[c[3]] for c in certs_rows)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
