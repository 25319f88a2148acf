"""What people read about recalls and traces (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SEVERITY_LABELS = {
    "class_i": _l("Class I: serious health risk"),
    "class_ii": _l("Class II: possible health risk"),
    "class_iii": _l("Class III: unlikely to harm"),
}

#: Where a batch's quantity went, as the trace's mass balance names it.
FLOW_LABELS = {
    "in_transit": _l("In transit"),
    "consumed": _l("Made into other batches"),
    "sold": _l("Sold"),
    "destroyed": _l("Destroyed"),
    "lost": _l("Lost in transit"),
    "corrected": _l("Returned by corrections"),
}

#: The export formats offered on the recall page.
EXPORT_FORMATS = [("xlsx", _l("Excel workbook (XLSX)")), ("csv", _l("CSV"))]
EXPORT_COLUMNS = {"zh": _l("Chinese column names"), "en": _l("English column names (FSMA 204)")}

#: An export job's status as people read it.
JOB_STATUS_LABELS = {
    "queued": _l("Waiting for a worker"),
    "running": _l("Building"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}
