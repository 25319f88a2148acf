"""Glue between the event pages and ``EventIn``: what each kind's form shows, form → payload.

No rules live here; the schema and the services hold them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from werkzeug.datastructures import FileStorage, MultiDict

from traceapp import clock, zones
from traceapp.coldchain.loggers import LoggerFileError, parse_logger_csv
from traceapp.coldchain.texts import logger_error_message
from traceapp.coldchain.uploads import parse_upload
from traceapp.errors import InvalidInput
from traceapp.events.models import EventKind
from traceapp.events.rules import ACTIONS
from traceapp.forms import form_payload
from traceapp.inputs import optional_file
from traceapp.orgs.models import OrgKind
from traceapp.orgs.permissions import Acting, allows

K = EventKind
#: The order the event forms are offered in; each kind of organisation sees its usual ones first.
FORM_ORDER = [
    K.INSPECTING,
    K.RECEIVING,
    K.SHIPPING,
    K.TRANSPORTING,
    K.STORING,
    K.PORTIONING,
    K.TRANSFORMING,
    K.AGGREGATING,
    K.RETAIL_SELLING,
    K.DESTROYING,
    K.VOIDING,
]
USUAL_FIRST = {
    OrgKind.PRODUCER: [K.SHIPPING, K.STORING, K.TRANSPORTING],
    OrgKind.MARKET: [K.INSPECTING, K.RECEIVING, K.PORTIONING],
    OrgKind.CARRIER: [K.TRANSPORTING, K.RECEIVING, K.STORING],
    OrgKind.PROCESSOR: [K.RECEIVING, K.TRANSFORMING, K.STORING],
    OrgKind.RETAILER: [K.RECEIVING, K.RETAIL_SELLING, K.STORING],
    OrgKind.REGULATOR: [K.INSPECTING],
}
LIST_FIELDS = frozenset({"output_common.commitments", "output_common.basis"})
ROWS = 3


def kinds_for(actor: Acting) -> list[EventKind]:
    """The kinds of event whose forms the actor is offered: those the permission table lets its
    kind of organisation record, its usual ones first (the order is all this module decides)."""
    ordered = dict.fromkeys(USUAL_FIRST.get(actor.org_kind, []) + FORM_ORDER)
    return [kind for kind in ordered if allows(actor, ACTIONS[kind])]


def event_payload(form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> dict[str, Any]:
    """The posted event form as an ``EventIn`` payload (times in the organisation's zone,
    readings read)."""
    payload = form_payload(form, lists=LIST_FIELDS)
    zone = ZoneInfo(zones.page_zone())
    if payload.get("occurred_at"):
        payload["occurred_at"] = _local(payload["occurred_at"], zone)
    _readings(payload, optional_file(files, "logger_file"), zone)
    _outputs(payload)
    return payload


def _local(text: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema names the field
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _readings(payload: dict[str, Any], upload: FileStorage | None, zone: ZoneInfo) -> None:
    typed = payload.pop("readings_text", None)
    try:
        if upload is not None and upload.filename:
            _layout, readings = parse_upload(upload, current_app.config, zone=zone.key)
        elif typed:
            _layout, readings = parse_logger_csv(f"Time,Temperature\n{typed}".encode(), default_tz=zone)
        else:
            return
    except LoggerFileError as exc:
        field = "logger_file" if upload is not None and upload.filename else "readings_text"
        raise InvalidInput(field, logger_error_message(exc)) from exc
    payload["temperatures"] = [{"at": r.at.isoformat(), "celsius": str(r.celsius)} for r in readings]


def _outputs(payload: dict[str, Any]) -> None:
    """Transformation outputs share the processor's origin, commitments and basis."""
    shared = payload.pop("output_common", None)
    rows = payload.get("outputs")
    if payload.get("kind") != EventKind.TRANSFORMING.value or not isinstance(rows, list):
        return
    payload["outputs"] = [{**row, **(shared or {})} for row in rows]


def blank_values(kind: EventKind, code: str | None) -> dict[str, Any]:
    """A fresh form: a new event id (double submits replay), now in the organisation's zone,
    the batch if given."""
    return {
        "event_id": str(uuid.uuid4()),
        "kind": kind.value,
        "trace_code": code or "",
        "occurred_at": clock.now_in(zones.page_zone()).strftime("%Y-%m-%dT%H:%M"),
        "unit": "kg",
        "certificate_status": "valid",
        "result": "accepted",
        "output_common.commitments": ["no_banned_substances", "residues_within_limits", "truthful"],
    }
