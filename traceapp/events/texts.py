"""What people read about events: kind names, custody at the gate (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from traceapp.events.models import DisputeStatus, EventKind

KIND_LABELS = {
    EventKind.COMMISSIONING: _l("Certificate issued"),
    EventKind.SHIPPING: _l("Shipped"),
    EventKind.RECEIVING: _l("Received"),
    EventKind.STORING: _l("Stored"),
    EventKind.TRANSPORTING: _l("Transported"),
    EventKind.INSPECTING: _l("Checked at the market gate"),
    EventKind.TRANSFORMING: _l("Processed"),
    EventKind.AGGREGATING: _l("Packed onto a pallet"),
    EventKind.PORTIONING: _l("Portioned for sale"),
    EventKind.RETAIL_SELLING: _l("Sold"),
    EventKind.DESTROYING: _l("Destroyed"),
    EventKind.VOIDING: _l("Declared erroneous"),
}

#: On what word a gate check took custody (``details.custody.basis``).
BASIS_LABELS = {
    "shipment": _l("shipped to the market"),
    "handover_code": _l("handed over with your code"),
    "held": _l("already held by the market"),
    "none": _l("no custody taken"),
}

DISPUTE_LABELS = {
    DisputeStatus.OPEN: _l("open"),
    DisputeStatus.UPHELD: _l("upheld: the stock came back"),
    DisputeStatus.DISMISSED: _l("dismissed: the gate check stands"),
}

HANDOVER_STATES = {
    "active": _l("active"),
    "used": _l("used"),
    "cancelled": _l("withdrawn"),
    "expired": _l("expired"),
}

#: Why the gate page says REJECT (``rules.GATE_REASONS``), as the operator reads it.
GATE_REASONS = {
    "revoked": _l("Certificate revoked by its producer"),
    "recalled": _l("Batch recalled"),
    "failed_inspection": _l("Rejected at a market gate before (a positive rapid test or a failed check)"),
    "expired": _l("Past its best-before date"),
    "positive_test": _l("Rapid test positive"),
    "not_shipped": _l(
        "Not shipped to you: nobody shipped this batch to your market and you hold none of it. "
        "The holder can give you a hand-over code."
    ),
}
