"""What people read about events: kind names (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from traceapp.events.models import EventKind

KIND_LABELS = {
    EventKind.COMMISSIONING: _l("Certificate issued"),
    EventKind.SHIPPING: _l("Shipped"),
    EventKind.RECEIVING: _l("Received"),
    EventKind.STORING: _l("Stored"),
    EventKind.TRANSPORTING: _l("Transported"),
    EventKind.INSPECTING: _l("Checked at the market gate"),
    EventKind.TRANSFORMING: _l("Processed"),
    EventKind.PORTIONING: _l("Portioned for sale"),
    EventKind.RETAIL_SELLING: _l("Sold"),
    EventKind.DESTROYING: _l("Destroyed"),
    EventKind.VOIDING: _l("Declared erroneous"),
}
