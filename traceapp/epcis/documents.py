"""EPCIS 2.0 export: our events as a JSON-LD ``EPCISDocument`` (GS1 EPCIS 2.0, CBV 2.0).

Pure functions over plain views (no database, no Flask): the caller loads the rows, makes
:class:`EventView` of them (``EventView.of``) and calls :func:`epcis_document`. CBV values are
the short names of GS1's 2.0 JSON examples. Every identifier is a URI: a batch is the
``epcClass`` of a quantity entry (its GS1 Digital Link with a GTIN, else its code URL), an
organisation ``{base}/orgs/{uuid}``, a location ``{base}/locations/{name}``. The event a later
one corrects carries the ``errorDeclaration``; a voiding is not exported itself. What EPCIS has
no field for (gate tests, cold-chain verdicts, notes) goes into ``traceapp:`` extensions, keys
prefixed at every level so that JSON-LD expansion keeps all of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote, urlsplit
from uuid import UUID

from traceapp.codes import code_url
from traceapp.gs1 import digital_link

#: The EPCIS 2.0.0 JSON-LD context, pinned as in every GS1 example (the unversioned
#: ``https://ref.gs1.org/standards/epcis/epcis-context.jsonld`` follows the latest version).
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
GS1_RESOLVER = "https://id.gs1.org"
PREFIX = "traceapp"
VOIDING = "voiding"
#: Our units as UN/CEFACT Recommendation 20 codes, with the factor to that code's unit.
UOM: dict[str, tuple[str, Decimal]] = {
    "kg": ("KGM", Decimal(1)),
    "jin": ("KGM", Decimal("0.5")),
    "piece": ("H87", Decimal(1)),
    "box": ("XBX", Decimal(1)),
}
#: Our bizSteps that CBV 2.0 lacks, as GS1 expresses them (its TransformationEvents commission).
_CBV_BIZ_STEP = {"transforming": "commissioning"}
#: Dispositions under which the goods are at no business location after the event.
_NO_BIZ_LOCATION = frozenset({"in_transit", "retail_sold", "destroyed"})
#: Detail keys never exported (personal data of people at the gate or of producers).
_WITHHELD = frozenset({"phone"})
_OFFSET = re.compile(r"([+-])(0\d|1[0-4]):([0-5]\d)")


@dataclass(frozen=True)
class ItemView:
    """A batch an event touches: role ``subject``, ``input`` or ``output``; unit kg/jin/piece/box."""

    trace_code: str
    gtin: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    role: str = "subject"

    @classmethod
    def of(cls, item: Any, certificate: Any) -> ItemView:
        """The view of an ``EventItem`` row and the ``Certificate`` it names."""
        return cls(
            certificate.trace_code, certificate.gtin, item.quantity, _text(item.unit), _text(item.role)
        )


@dataclass(frozen=True)
class ReadingView:
    """One temperature reading (``at`` timezone-aware)."""

    at: datetime
    celsius: Decimal


@dataclass(frozen=True)
class EventView:
    """What the export needs of one event: the ``Event`` columns, its items and readings."""

    id: UUID
    kind: str
    epcis_type: str
    action: str | None
    biz_step: str
    disposition: str | None
    occurred_at: datetime
    tz_offset: str
    recorded_at: datetime
    location: str | None = None
    org_id: UUID | None = None
    source_org_id: UUID | None = None
    destination_org_id: UUID | None = None
    carrier_org_id: UUID | None = None
    corrects_id: UUID | None = None
    correction_reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[ItemView, ...] = ()
    readings: tuple[ReadingView, ...] = ()

    @classmethod
    def of(cls, event: Any, *, items: Iterable[ItemView], readings: Iterable[Any] = ()) -> EventView:
        """The view of an ``Event`` row, with its items and ``TemperatureReading`` rows."""
        columns = {f.name: getattr(event, f.name) for f in fields(cls) if f.name not in _NOT_COLUMNS}
        return cls(
            **columns,
            kind=_text(event.kind),
            details=dict(event.details or {}),
            items=tuple(items),
            readings=tuple(ReadingView(r.at, r.celsius) for r in readings),
        )


_NOT_COLUMNS = frozenset({"kind", "details", "items", "readings"})


class CertificateLike(Protocol):
    """The fields of a certificate that its commissioning event needs."""

    id: UUID
    trace_code: str
    gtin: str | None
    quantity: Decimal
    unit: Any
    issued_at: datetime
    org_id: UUID


def commissioning_view(certificate: CertificateLike, *, tz_offset: str = "+00:00") -> EventView:
    """The issue of a certificate as an ObjectEvent ADD (commissioning, active).

    Its eventID is the certificate's id. Only for producers' certificates: portions and entry
    records come into being through the transformation or gate check that made them.
    """
    item = ItemView(certificate.trace_code, certificate.gtin, certificate.quantity, _text(certificate.unit))
    return EventView(
        id=certificate.id,
        kind="commissioning",
        epcis_type="ObjectEvent",
        action="ADD",
        biz_step="commissioning",
        disposition="active",
        occurred_at=certificate.issued_at,
        tz_offset=tz_offset,
        recorded_at=certificate.issued_at,
        org_id=certificate.org_id,
        items=(item,),
    )


def epcis_document(events: Sequence[EventView], *, base_url: str, created_at: datetime) -> dict[str, Any]:
    """An EPCISDocument of ``events``, in the order given.

    A voiding event is left out; an event that a later one (in ``events``) corrects or voids
    carries the errorDeclaration. Raises ValueError for a bad base URL, a naive time, a bad
    zone offset, an unknown unit or an invalid GTIN or trace code.
    """
    base = _base(base_url)
    correctors = {e.corrects_id: e for e in events if e.corrects_id is not None}
    body = [_event(e, base, correctors.get(e.id)) for e in events if e.kind != VOIDING]
    return {
        "@context": [EPCIS_CONTEXT, _our_context(base)],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(created_at),
        "epcisBody": {"eventList": body},
    }


def _our_context(base: str) -> dict[str, Any]:
    """Our prefix, and our extension terms whose values are IRIs."""
    return {
        PREFIX: f"{base}/ns/",
        f"{PREFIX}:recordedBy": {"@type": "@id"},
        f"{PREFIX}:carrier": {"@type": "@id"},
    }


def _event(view: EventView, base: str, corrector: EventView | None) -> dict[str, Any]:
    """One event: when, what, where, why, who, sensor data, error declaration, extensions."""
    zone = _zone(view.tz_offset)
    event: dict[str, Any] = {
        "type": view.epcis_type,
        "eventID": _event_id(view.id),
        "eventTime": _local(view.occurred_at, zone),
        "eventTimeZoneOffset": view.tz_offset,
        "recordTime": _utc(view.recorded_at),
    }
    if view.action:
        event["action"] = view.action
    event.update(_what(view, base))
    event.update(_why_where(view, base))
    event.update(_who(view, base))
    if view.readings or "cold_chain" in view.details:
        event["sensorElementList"] = [_sensor_element(view, zone)]
    if corrector is not None:
        event["errorDeclaration"] = _error_declaration(corrector)
    event.update(_extensions(view, base))
    return event


def _what(view: EventView, base: str) -> dict[str, Any]:
    """quantityList, or inputQuantityList/outputQuantityList for a TransformationEvent, or the
    parentID (the pallet's SSCC) and childQuantityList for an AggregationEvent."""
    if view.epcis_type == "AggregationEvent":
        return {
            "parentID": view.details["parent_id"],
            "childEPCs": [],
            "childQuantityList": [_quantity(i, base) for i in view.items],
        }
    if view.epcis_type == "TransformationEvent":
        lists = {"inputQuantityList": "input", "outputQuantityList": "output"}
    else:
        lists = {"quantityList": "subject"}
    what = {key: [_quantity(i, base) for i in view.items if i.role == role] for key, role in lists.items()}
    what = {key: value for key, value in what.items() if value}
    return what or {"epcList": []}  # nothing identified (a batch without a certificate)


def _quantity(item: ItemView, base: str) -> dict[str, Any]:
    """A quantityElement: the batch's class-level id and its quantity in a Rec 20 unit."""
    element: dict[str, Any] = {"epcClass": epc_class(item.trace_code, item.gtin, base_url=base)}
    if item.quantity is not None:
        if item.unit not in UOM:
            raise ValueError(f"no UN/CEFACT Rec 20 code for the unit {item.unit!r}")
        element["uom"], factor = UOM[item.unit]
        element["quantity"] = _number(item.quantity * factor)
    return element


def epc_class(trace_code: str, gtin: str | None, *, base_url: str) -> str:
    """A batch's class-level URI: its GS1 Digital Link with a GTIN, else our code URL."""
    if gtin:
        return digital_link(GS1_RESOLVER, gtin, lot=trace_code)
    return code_url(base_url, trace_code)


def _why_where(view: EventView, base: str) -> dict[str, Any]:
    """bizStep, disposition, readPoint and (unless the goods left every place) bizLocation."""
    why: dict[str, Any] = {"bizStep": _CBV_BIZ_STEP.get(view.biz_step, view.biz_step)}
    if view.disposition:
        why["disposition"] = view.disposition
    if view.location:
        place = {"id": f"{base}/locations/{quote(view.location, safe='')}"}
        why["readPoint"] = place
        if view.disposition not in _NO_BIZ_LOCATION and view.action != "DELETE":
            why["bizLocation"] = place
    return why


def _who(view: EventView, base: str) -> dict[str, Any]:
    """sourceList and destinationList: the parties handing over and taking over the goods."""
    who: dict[str, Any] = {}
    for key, kind, org in (
        ("sourceList", "source", view.source_org_id),
        ("destinationList", "destination", view.destination_org_id),
    ):
        if org is not None:
            who[key] = [
                {"type": party, kind: _org(base, org)} for party in ("owning_party", "possessing_party")
            ]
    return who


def _sensor_element(view: EventView, zone: timezone) -> dict[str, Any]:
    """One sensorElement for the leg: timed readings, or else the recorded min/max."""
    readings = sorted(view.readings, key=lambda r: r.at)
    if readings:
        return {
            "sensorMetadata": {
                "startTime": _local(readings[0].at, zone),
                "endTime": _local(readings[-1].at, zone),
            },
            "sensorReport": [
                {"type": "Temperature", "value": _number(r.celsius), "uom": "CEL", "time": _local(r.at, zone)}
                for r in readings
            ],
        }
    leg = view.details["cold_chain"]
    report: dict[str, Any] = {"type": "Temperature", "uom": "CEL"}
    for key, name in (("min", "minValue"), ("max", "maxValue")):
        if leg.get(key) is not None:
            report[name] = _number(Decimal(str(leg[key])))
    return {"sensorReport": [report]}


def _error_declaration(corrector: EventView) -> dict[str, Any]:
    """The declaration a correction (incorrect_data) or a voiding (did_not_occur) makes."""
    voided = corrector.kind == VOIDING
    declaration: dict[str, Any] = {
        "declarationTime": _utc(corrector.recorded_at),
        "reason": "did_not_occur" if voided else "incorrect_data",
    }
    if not voided:
        declaration["correctiveEventIDs"] = [_event_id(corrector.id)]
    if corrector.correction_reason:
        declaration[f"{PREFIX}:reason"] = corrector.correction_reason
    return declaration


def _extensions(view: EventView, base: str) -> dict[str, Any]:
    """Our fields without an EPCIS home: kind, recorder, carrier and the event's details."""
    extra: dict[str, Any] = {f"{PREFIX}:kind": view.kind}
    if view.org_id is not None:
        extra[f"{PREFIX}:recordedBy"] = _org(base, view.org_id)
    if view.carrier_org_id is not None:
        extra[f"{PREFIX}:carrier"] = _org(base, view.carrier_org_id)
    extra.update(_prefixed(view.details))
    return extra


def _prefixed(value: Any) -> Any:
    """``value`` with every object key under our prefix; withheld keys and None members dropped.

    None stays inside lists, where position may matter (a range is ``[low, high]``).
    """
    if isinstance(value, Mapping):
        return {
            f"{PREFIX}:{key}": _prefixed(item)
            for key, item in value.items()
            if item is not None and key not in _WITHHELD
        }
    if isinstance(value, list | tuple):
        return [_prefixed(item) for item in value]
    if isinstance(value, Decimal):
        return _number(value)
    return value


# --- small conversions ---------------------------------------------------------------------


def _base(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"base URL must be http(s)://host[:port][/path]: {base_url!r}")
    return base_url.rstrip("/")


def _org(base: str, org_id: UUID) -> str:
    return f"{base}/orgs/{org_id}"


def _event_id(event_id: UUID) -> str:
    return f"urn:uuid:{event_id}"


def _zone(offset: str) -> timezone:
    """The fixed zone of ``+HH:MM`` / ``-HH:MM``. Raises ValueError for anything else."""
    match = _OFFSET.fullmatch(offset)
    if match is None:
        raise ValueError(f"not a zone offset (+HH:MM): {offset!r}")
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return timezone(-delta if match[1] == "-" else delta)


def _local(moment: datetime, zone: timezone) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime: {moment!r}")
    return moment.astimezone(zone).isoformat()


def _utc(moment: datetime) -> str:
    return _local(moment, UTC)


def _number(value: Decimal) -> int | float:
    """A JSON number: an int when whole, else the float that prints as the same decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: Any) -> Any:
    """An enum's value (``Unit.KG`` → ``"kg"``), anything else as it is."""
    return getattr(value, "value", value)


# -- the repository's answers (/epcis) ---------------------------------------------------------


def stored_event(row: Any) -> dict[str, Any]:
    """A captured event as the repository answers it: as received (its ``@context`` first),
    with the ``eventID`` the repository knows it by (its hash, when sent without one) and the
    ``recordTime`` the repository gave it (EPCIS 2.0 §7.4.1: the capturing repository sets it)."""
    body = dict(row.body)
    out: dict[str, Any] = {"@context": body.pop("@context")}
    out.update(body)
    out.setdefault("eventID", row.event_id)
    out["recordTime"] = _epcis_time(row.record_time)
    return out


def query_document(
    rows: list[Any], *, created_at: datetime, query_name: str = "SimpleEventQuery"
) -> dict[str, Any]:
    """An EPCISQueryDocument holding the events ``rows`` (each with its own ``@context``)."""
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _epcis_time(created_at),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {"eventList": [stored_event(r) for r in rows]},
            }
        },
    }


def capture_job(capture: Any) -> dict[str, Any]:
    """The binding's capture job resource."""
    running = capture.status.value == "running"
    out: dict[str, Any] = {
        "captureID": capture.capture_id,
        "createdAt": _epcis_time(capture.created_at),
        "running": running,
        "success": capture.status.value != "failed",
        "captureErrorBehaviour": capture.behaviour,
        "errors": list(capture.errors or []),
    }
    if capture.finished_at is not None:
        out["finishedAt"] = _epcis_time(capture.finished_at)
    return out


def _epcis_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
