"""The affected set of a recall as a sortable spreadsheet: one row per event (FDA FSMA 204
key data elements plus our certificate fields), CSV or XLSX, English or Chinese columns, dates
and times in the exporting organisation's time zone. Text
that a spreadsheet would run as a formula is written as text (``spreadsheets.text_cell``).

Rows are streamed from a few queries per chunk of batches, so a recall touching tens of thousands
of events exports without holding them all in memory.
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy.orm import Session, aliased

from traceapp import regions
from traceapp.certificates.models import Certificate
from traceapp.certificates.status import BatchStatus, batch_status
from traceapp.events.models import Event, EventItem, EventKind
from traceapp.events.queries import batch_facts_of
from traceapp.orgs.models import DEFAULT_ZONE, Organisation
from traceapp.recalls.models import Recall, RecallBatch
from traceapp.schemas import decimal_text
from traceapp.spreadsheets import text_cells

#: The content type of an XLSX export.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
#: Called with the number of rows written so far.
OnRow = Callable[[int], None]


def count_rows(session: Session, recall_id: uuid.UUID) -> int:
    """How many rows the export of a recall has: an issue row per batch, a row per event item."""
    batches = sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall_id)
    issued = session.scalar(sa.select(sa.func.count()).select_from(batches.subquery()))
    items = session.scalar(
        sa.select(sa.func.count()).select_from(EventItem).where(EventItem.certificate_id.in_(batches))
    )
    return int(issued or 0) + int(items or 0)


def rows(session: Session, recall_id: uuid.UUID, *, zone: str = DEFAULT_ZONE) -> Iterator[list[Any]]:
    """Every event of every batch the recall covers, as spreadsheet rows (issue rows first),
    dates and times in ``zone`` (the exporting organisation's)."""
    tz = ZoneInfo(zone)
    ids = list(
        session.scalars(sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall_id))
    )
    names = dict(session.execute(sa.select(Organisation.id, Organisation.name)).all()) if ids else {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        certificates = list(session.scalars(sa.select(Certificate).where(Certificate.id.in_(chunk))))
        facts = batch_facts_of(session, certificates)
        batches = {c.id: _Batch(c, names, batch_status(facts[c.id]), tz) for c in certificates}
        for batch in sorted(batches.values(), key=lambda b: b.certificate.issued_at):
            yield _issue_row(batch, names)
        yield from _event_rows(session, chunk, batches, names)


class _Batch:
    """A certificate with the cells of its own columns, worked out once for all its rows."""

    __slots__ = ("certificate", "head", "tail", "tz")

    def __init__(
        self, c: Certificate, names: dict[uuid.UUID, str], status: BatchStatus, tz: ZoneInfo
    ) -> None:
        self.certificate = c
        self.tz = tz  #: the zone of the export's dates and times
        self.head = [
            c.trace_code,
            names.get(c.org_id, ""),
            regions.full_name(c.producer_region_code or ""),
            c.product_name,
        ]
        self.tail = [
            status.value,
            regions.place(c.origin_region_code, c.origin_address),
            c.origin_region_code,
            c.harvest_date.isoformat() if c.harvest_date else "",
            c.issued_at.astimezone(tz).date().isoformat(),
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
        when.astimezone(batch.tz).date().isoformat(),
        when.astimezone(batch.tz).isoformat(),
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


def _counted(
    session: Session,
    recall_id: uuid.UUID,
    on_row: OnRow | None,
    on_rows_done: OnRow | None = None,
    *,
    zone: str = DEFAULT_ZONE,
) -> Iterator[list[Any]]:
    # The one place every exported row passes: its text cells cannot become formulas.
    cells = (text_cells(row) for row in rows(session, recall_id, zone=zone))
    if on_row is None and on_rows_done is None:
        yield from cells
        return
    done = 0
    for done, row in enumerate(cells, 1):
        yield row
        if on_row is not None:
            on_row(done)
    if on_rows_done is not None:
        on_rows_done(done)


def to_csv(
    session: Session,
    recall_id: uuid.UUID,
    *,
    columns: str,
    on_row: OnRow | None = None,
    on_rows_done: OnRow | None = None,
    zone: str = DEFAULT_ZONE,
) -> Iterator[str]:
    """CSV text in pieces (UTF-8 with BOM so spreadsheet programs read the Chinese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header(columns))
    for row in _counted(session, recall_id, on_row, on_rows_done, zone=zone):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_xlsx(
    session: Session,
    recall_id: uuid.UUID,
    *,
    columns: str,
    on_row: OnRow | None = None,
    on_rows_done: OnRow | None = None,
    zone: str = DEFAULT_ZONE,
) -> bytes:
    """An XLSX workbook (write-only mode) with a filterable, frozen header row.

    The same data gives the same bytes: the workbook's created and modified times and the
    zip entries' times are the recall's opening time, not the time of the export (openpyxl
    stamps "now" into both), so an export built by a job equals the one a request builds.
    """
    opened_at = session.scalar(sa.select(Recall.opened_at).where(Recall.id == recall_id))
    stamp = (opened_at or datetime(1980, 1, 1)).replace(tzinfo=None, microsecond=0)
    workbook = Workbook(write_only=True)
    workbook.properties.created = workbook.properties.modified = stamp
    sheet = workbook.create_sheet("recall")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{chr(ord('A') + len(COLUMNS) - 1)}1"
    sheet.append(header(columns))
    for row in _counted(session, recall_id, on_row, on_rows_done, zone=zone):
        sheet.append(row)
    out = io.BytesIO()
    with _StampedZip(out, stamp) as archive:
        ExcelWriter(workbook, archive).save()
    return out.getvalue()


def to_file(
    session: Session,
    recall_id: uuid.UUID,
    *,
    fmt: str,
    columns: str,
    on_row: OnRow | None = None,
    on_rows_done: OnRow | None = None,
    zone: str = DEFAULT_ZONE,
) -> bytes:
    """The whole export as bytes: what ``export.csv`` streams, or ``export.xlsx`` sends.
    ``on_row(done)`` is called after each row, ``on_rows_done(done)`` once after the last,
    before the file is put together (for XLSX, the zip: a long step of its own)."""
    if fmt == "csv":
        pieces = to_csv(
            session, recall_id, columns=columns, on_row=on_row, on_rows_done=on_rows_done, zone=zone
        )
        return "".join(pieces).encode()
    return to_xlsx(session, recall_id, columns=columns, on_row=on_row, on_rows_done=on_rows_done, zone=zone)


def filename(recall_id: uuid.UUID, fmt: str) -> str:
    return f"recall-{recall_id}.{fmt}"


class _StampedZip(zipfile.ZipFile):
    """A deflated zip whose entries all carry one time (``writestr`` with a name uses "now")."""

    def __init__(self, file: io.BytesIO, stamp: datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = stamp.timetuple()[:6]

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)  # type: ignore[arg-type]
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        # A write-only sheet arrives as a temporary file, which would carry its own mtime.
        info = zipfile.ZipInfo.from_file(filename, arcname)
        info.date_time, info.compress_type = self._stamp, zipfile.ZIP_DEFLATED
        with open(filename, "rb") as source, self.open(info, "w") as target:
            shutil.copyfileobj(source, target, 1 << 16)
