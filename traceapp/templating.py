"""App-wide Jinja filters, registered on the app in create_app (not on one blueprint)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from traceapp.certificates.texts import quantity_text
from traceapp.codes import format_trace_code


def quantity_filter(value: Any, unit: Any) -> str:
    """``{{ c.quantity|quantity(c.unit) }}`` → ``500 kg``."""
    return quantity_text(value, unit)


def trace_code_filter(code: str) -> str:
    """``{{ code|trace_code }}`` → ``XXXX-XXXX-XXXX-XX``."""
    return format_trace_code(code)


def init_app(app: Flask) -> None:
    """Register the filters every template may use."""
    app.add_template_filter(quantity_filter, "quantity")
    app.add_template_filter(trace_code_filter, "trace_code")
