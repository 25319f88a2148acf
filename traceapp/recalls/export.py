"""The affected set of a recall as a sortable spreadsheet: one row per event (FDA FSMA 204
key data elements plus our certificate fields), CSV or XLSX, English or Chinese columns.

Rows are streamed from a few queries per chunk of batches, so a recall touching tens of thousands
of events exports without holding them all in memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.orm import Session, aliased

from traceapp import regions
from traceapp.certificates.models import Certificate
from traceapp.certificates.status import BatchStatus, batch_status
from traceapp.events.models import Event, EventItem, EventKind
from traceapp.events.queries import batch_facts_of
from traceapp.orgs.models import Organisation
from traceapp.recalls.models import RecallBatch
from traceapp.schemas import decimal_text

#: FSMA 204 critical tracking event for each of our kinds.
CTE = {
    EventKind.SHIPPING: "Shipping",
    EventKind.RECEIVING: "Receiving",
    EventKind.INSPECTING: "Receiving",
    EventKind.TRANSFORMING: "Transformation",
    EventKind.PORTIONING: "Transformation",
    EventKind.STORING: "Storing",
    EventKind.TRANSPORTING: "Transporting",
    EventKind.RETAIL_SELLING: "Retail sale",
    EventKind.DESTROYING: "Destruction",
    EventKind.VOIDING: "Error declaration",
}

COLUMNS = [
    ("traceability_lot_code", "追溯码"),
    ("tlc_source", "追溯码来源（开具者）"),
    ("tlc_source_location", "来源地址"),
    ("product_description", "产品名称"),
    ("quantity", "数量"),
    ("unit_of_measure", "单位"),
    ("event_type", "关键追溯事件"),
    ("event_kind", "事件"),
    ("event_date", "事件日期"),
    ("event_time", "事件时间"),
    ("recorded_by", "记录者"),
    ("location", "地点"),
    ("ship_from", "发货方"),
    ("ship_to", "收货方"),
    ("reference_document", "参考文件（事件编号）"),
    ("item_role", "角色"),
    ("batch_status", "批次状态"),
    ("origin", "产地"),
    ("origin_code", "行政区划代码"),
    ("harvest_date", "采收日期"),
    ("issue_date", "开具日期"),
    ("producer", "生产者"),
    ("commitment_basis", "承诺依据"),
    ("lab_report_number", "检测报告编号"),
]
CHUNK = 500


def rows(session: Session, recall_id: uuid.UUID) -> Iterator[list[Any]]:
    """Every event of every batch the recall covers, as spreadsheet rows (issue rows first)."""
    ids = list(
        session.scalars(sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall_id))
    )
    names = dict(session.execute(sa.select(Organisation.id, Organisation.name)).all()) if ids else {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        certificates = list(session.scalars(sa.select(Certificate).where(Certificate.id.in_(chunk))))
        facts = batch_facts_of(session, certificates)
        batches = {c.id: _Batch(c, names, batch_status(facts[c.id])) for c in certificates}
        for batch in sorted(batches.values(), key=lambda b: b.certificate.issued_at):
            yield _issue_row(batch, names)
        yield from _event_rows(session, chunk, batches, names)


class _Batch:
    """A certificate with the cells of its own columns, worked out once for all its rows."""

    __slots__ = ("certificate", "head", "tail")

    def __init__(self, c: Certificate, names: dict[uuid.UUID, str], status: BatchStatus) -> None:
        self.certificate = c
        self.head = [
            c.trace_code,
            names.get(c.org_id, ""),
            regions.full_name(c.producer_region_code or ""),
            c.product_name,
        ]
        self.tail = [
            status.value,
            regions.full_name(c.origin_region_code) + (c.origin_address or ""),
            c.origin_region_code,
            c.harvest_date.isoformat() if c.harvest_date else "",
            c.issued_at.date().isoformat(),
            c.producer_name,
            " ".join(c.basis),
            c.report_number or "",
        ]


def _issue_row(batch: _Batch, names: dict[uuid.UUID, str]) -> list[Any]:
    c = batch.certificate
    cte = "Harvesting / initial packing" if c.kind.value == "certificate" else "Transformation"
    return _row(
        batch,
        names,
        cte=cte,
        kind="commissioning",
        when=c.issued_at,
        recorder=c.org_id,
        quantity=c.quantity,
        location=None,
        ship_from=None,
        ship_to=None,
        reference=str(c.id),
        role="subject",
    )


def _event_rows(
    session: Session, chunk: list[uuid.UUID], batches: dict[uuid.UUID, _Batch], names: dict[uuid.UUID, str]
) -> Iterator[list[Any]]:
    item = aliased(EventItem)
    # Only the columns the rows show: no Event entities (identity map, JSON details) to build.
    query = (
        sa.select(
            Event.id,
            Event.kind,
            Event.occurred_at,
            Event.org_id,
            Event.location,
            Event.source_org_id,
            Event.destination_org_id,
            item.certificate_id,
            item.quantity,
            item.role,
        )
        .join(item, item.event_id == Event.id)
        .where(item.certificate_id.in_(chunk))
        .order_by(Event.occurred_at)
    )
    for event_id, kind, when, recorder, location, source, destination, cid, quantity, role in session.execute(
        query
    ):
        yield _row(
            batches[cid],
            names,
            cte=CTE.get(kind, kind.value),
            kind=kind.value,
            when=when,
            recorder=recorder,
            quantity=quantity,
            location=location,
            ship_from=source,
            ship_to=destination,
            reference=str(event_id),
            role=role.value,
        )


def _row(
    batch: _Batch,
    names: dict[uuid.UUID, str],
    *,
    cte: str,
    kind: str,
    when: Any,
    recorder: Any,
    quantity: Any,
    location: str | None,
    ship_from: Any,
    ship_to: Any,
    reference: str,
    role: str,
) -> list[Any]:
    return [
        *batch.head,
        decimal_text(quantity) if quantity is not None else "",
        batch.certificate.unit.value,
        cte,
        kind,
        when.date().isoformat(),
        when.isoformat(),
        names.get(recorder, ""),
        location or "",
        names.get(ship_from, ""),
        names.get(ship_to, ""),
        reference,
        role,
        *batch.tail,
    ]


def header(columns: str) -> list[str]:
    return [zh if columns == "zh" else en for en, zh in COLUMNS]


def to_csv(session: Session, recall_id: uuid.UUID, *, columns: str) -> Iterator[str]:
    """CSV text in pieces (UTF-8 with BOM so spreadsheet programs read the Chinese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header(columns))
    for row in rows(session, recall_id):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_xlsx(session: Session, recall_id: uuid.UUID, *, columns: str) -> bytes:
    """An XLSX workbook (write-only mode) with a filterable, frozen header row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("recall")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{chr(ord('A') + len(COLUMNS) - 1)}1"
    sheet.append(header(columns))
    for row in rows(session, recall_id):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
