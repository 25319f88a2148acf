"""Which rules record which kind of event."""

from __future__ import annotations

from collections.abc import Callable

from traceapp.events import corrections, custody, gate, pallets, processing
from traceapp.events.models import EventKind
from traceapp.events.recording import Recording

HANDLERS: dict[EventKind, Callable[[Recording], None]] = {
    EventKind.SHIPPING: custody.ship,
    EventKind.RECEIVING: custody.receive,
    EventKind.STORING: custody.leg,
    EventKind.TRANSPORTING: custody.leg,
    EventKind.RETAIL_SELLING: custody.consume,
    EventKind.DESTROYING: custody.consume,
    EventKind.INSPECTING: gate.inspect,
    EventKind.TRANSFORMING: processing.transform,
    EventKind.PORTIONING: processing.portion,
    EventKind.AGGREGATING: pallets.aggregate,
    EventKind.VOIDING: corrections.void,
}
