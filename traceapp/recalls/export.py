"""The affected set of a recall as a sortable spreadsheet: one row per event (FDA FSMA 204
key data elements plus our certificate fields), CSV or XLSX, English or Chinese columns (and with
Chinese columns Chinese values: event types and kinds, units, roles, statuses, bases), each
event's date and time in the local time of the organisation that recorded it, with its offset
(an issue row: the issuer's). Quantities are numbers in XLSX. Text that a spreadsheet would
run as a formula is written as text (``spreadsheets.text_cell``).

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
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy.orm import Session, aliased

from traceapp import regions
from traceapp.certificates.models import Basis, Certificate, Unit
from traceapp.certificates.status import BatchStatus, batch_status
from traceapp.certificates.texts import BASIS_LABELS, STATUS_LABELS, UNIT_SHORT
from traceapp.events.models import Event, EventItem, EventKind, ItemRole
from traceapp.events.queries import batch_facts_of
from traceapp.events.texts import KIND_LABELS
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
    # The operator behind the lot code (NY/T 4712's base information; FSMA's location description).
    ("tlc_source_credit_code", "来源统一社会信用代码"),
    ("tlc_source_address", "来源经营者地址"),
    ("tlc_source_phone", "来源联系电话"),
]
#: FSMA 204's event types in Chinese, for Chinese columns.
CTE_ZH = {
    "Harvesting / initial packing": "采收／初次包装",
    "Shipping": "发货",
    "Receiving": "收货",
    "Transformation": "加工",
    "Storing": "贮存",
    "Transporting": "运输",
    "Retail sale": "零售",
    "Destruction": "销毁",
    "Error declaration": "作废声明",
}
ROLE_ZH = {ItemRole.SUBJECT: "本批次", ItemRole.INPUT: "投入", ItemRole.OUTPUT: "产出"}


@dataclass(frozen=True)
class Vocabulary:
    """The words of the value columns in the export's language, worked out once per export."""

    cte: dict[str, str]
    kinds: dict[str, str]
    units: dict[Unit, str]
    roles: dict[str, str]
    statuses: dict[BatchStatus, str]
    bases: dict[str, str]
    joiner: str


def vocabulary(columns: str) -> Vocabulary:
    """English columns keep the codes (``shipping``, ``kg``, ``valid``: what scripts sort on);
    Chinese columns get the words a person reads (发货, 千克, 有效)."""
    if columns != "zh":
        return Vocabulary(
            {},
            {k.value: k.value for k in EventKind},
            {u: u.value for u in Unit},
            {r.value: r.value for r in ItemRole},
            {b: b.value for b in BatchStatus},
            {b.value: b.value for b in Basis},
            " ",
        )
    with force_locale("zh_CN"):
        return Vocabulary(
            CTE_ZH,
            {k.value: str(label) for k, label in KIND_LABELS.items()},
            {u: str(label) for u, label in UNIT_SHORT.items()},
            {r.value: label for r, label in ROLE_ZH.items()},
            {b: str(label) for b, label in STATUS_LABELS.items()},
            {b.value: str(label) for b, label in BASIS_LABELS.items()},
            "、",
        )


@dataclass(frozen=True)
class Operators:
    """Every organisation's name, time zone and operator cells, read once per export."""

    names: dict[uuid.UUID, str]
    zones: dict[uuid.UUID, ZoneInfo]
    cells: dict[uuid.UUID, list[str]]
    fallback: ZoneInfo

    def zone(self, org_id: uuid.UUID) -> ZoneInfo:
        return self.zones.get(org_id, self.fallback)


def _operators(session: Session, zone: str) -> Operators:
    query = sa.select(
        Organisation.id,
        Organisation.name,
        Organisation.timezone,
        Organisation.credit_code,
        Organisation.address,
        Organisation.phone,
    )
    names, zones, cells = {}, {}, {}
    for org_id, name, timezone, credit, address, phone in session.execute(query):
        names[org_id], zones[org_id] = name, ZoneInfo(timezone)
        cells[org_id] = [credit or "", address or "", phone or ""]
    return Operators(names, zones, cells, ZoneInfo(zone))


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


def rows(
    session: Session, recall_id: uuid.UUID, *, zone: str = DEFAULT_ZONE, columns: str = "en"
) -> Iterator[list[Any]]:
    """Every event of every batch the recall covers, as spreadsheet rows (issue rows first),
    each date and time in the recording organisation's zone (``zone`` for one unknown), the
    value columns in the words of ``columns``, quantities as Decimal."""
    ids = list(
        session.scalars(sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall_id))
    )
    if not ids:
        return
    orgs, words = _operators(session, zone), vocabulary(columns)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        certificates = list(session.scalars(sa.select(Certificate).where(Certificate.id.in_(chunk))))
        facts = batch_facts_of(session, certificates)
        batches = {c.id: _Batch(c, orgs, batch_status(facts[c.id]), words) for c in certificates}
        for batch in sorted(batches.values(), key=lambda b: b.certificate.issued_at):
            yield _issue_row(batch, orgs)
        yield from _event_rows(session, chunk, batches, orgs)


class _Batch:
    """A certificate with the cells of its own columns, worked out once for all its rows."""

    __slots__ = ("certificate", "head", "tail", "unit", "words")

    def __init__(self, c: Certificate, orgs: Operators, status: BatchStatus, words: Vocabulary) -> None:
        self.certificate = c
        self.words = words
        self.unit = words.units[c.unit]
        self.head = [
            c.trace_code,
            orgs.names.get(c.org_id, ""),
            regions.full_name(c.producer_region_code or ""),
            c.product_name,
        ]
        self.tail = [
            words.statuses[status],
            regions.place(c.origin_region_code, c.origin_address),
            c.origin_region_code,
            c.harvest_date.isoformat() if c.harvest_date else "",
            c.issued_at.astimezone(orgs.zone(c.org_id)).date().isoformat(),
            c.producer_name,
            words.joiner.join(words.bases.get(b, b) for b in c.basis),
            c.report_number or "",
            *orgs.cells.get(c.org_id, ["", "", ""]),
        ]


def _issue_row(batch: _Batch, orgs: Operators) -> list[Any]:
    c = batch.certificate
    cte = "Harvesting / initial packing" if c.kind.value == "certificate" else "Transformation"
    return _row(
        batch,
        orgs,
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
    session: Session, chunk: list[uuid.UUID], batches: dict[uuid.UUID, _Batch], orgs: Operators
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
            orgs,
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
    orgs: Operators,
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
    local = when.astimezone(orgs.zone(recorder))  # the recorder's own clock, with its offset
    words, names = batch.words, orgs.names
    return [
        *batch.head,
        quantity if quantity is not None else "",
        batch.unit,
        words.cte.get(cte, cte),
        words.kinds.get(kind, kind),
        local.date().isoformat(),
        local.isoformat(),
        names.get(recorder, ""),
        location or "",
        names.get(ship_from, ""),
        names.get(ship_to, ""),
        reference,
        words.roles.get(role, role),
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
    columns: str = "en",
) -> Iterator[list[Any]]:
    # The one place every exported row passes: its text cells cannot become formulas.
    cells = (text_cells(row) for row in rows(session, recall_id, zone=zone, columns=columns))
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
    for row in _counted(session, recall_id, on_row, on_rows_done, zone=zone, columns=columns):
        writer.writerow([decimal_text(v) if isinstance(v, Decimal) else v for v in row])
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
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}1"
    sheet.append(header(columns))
    for row in _counted(session, recall_id, on_row, on_rows_done, zone=zone, columns=columns):
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
