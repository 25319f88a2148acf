"""The gate page (查验) for market staff: a code, then the verdict at a glance, then a short form.

Step 1 is one big code box (typed, a USB scanner's keystrokes, or the phone's camera through
``static/gate.js``); ``GET /gate?code=`` looks the batch up and shows ACCEPT or REJECT with the
reasons (``gate_check``); posting the form records the gate check through ``record_event``, as
``POST /api/v1/events`` does, with the result and the certificate status the verdict gives:
nobody picks them by hand. Rapid tests are added one row at a time ("add a test" posts the
form back with one more row: no script needed).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from traceapp import codes, db
from traceapp.auth import login_required, page_actor
from traceapp.certificates.models import Certificate
from traceapp.certificates.queries import find_by_code, scan_problem
from traceapp.certificates.texts import UNIT_LABELS, quantity_text, scan_reason
from traceapp.db import utcnow
from traceapp.errors import DomainError, InvalidInput
from traceapp.events import gate_check, services
from traceapp.events.models import EventKind
from traceapp.events.schemas import EventIn
from traceapp.events.texts import GATE_REASONS
from traceapp.forms import error_map, form_payload
from traceapp.limits import TESTS
from traceapp.orgs.permissions import Action, require
from traceapp.schemas import decimal_text

bp = Blueprint("gate", __name__)
#: What the short form posts besides the event's own fields.
_CONTROLS = ("code", "rows", "add_test", "verdict")


@bp.get("/gate")
@login_required
def page() -> str | tuple[str, int]:
    """Step 1 (no ``code``): the code box. With ``?code=``: the verdict and the short form."""
    require(page_actor(), Action.INSPECT)
    typed = request.args.get("code", "").strip()
    if not typed:
        return render_template("events/gate.html", typed="", check=None)
    certificate, mistake = _batch(typed)
    if certificate is None:
        return render_template(
            "events/gate.html", typed=typed, mistake=mistake, reason=scan_reason(mistake), check=None
        ), 404
    check = _check(certificate, MultiDict())
    quantity = check.shipped if check.shipped is not None else (check.held or None)
    values = {
        "event_id": str(uuid.uuid4()),
        "unit": certificate.unit.value,
        "quantity": "" if quantity is None else decimal_text(quantity),
        "occurred_at": utcnow().isoformat(timespec="seconds"),  # the look-up: a resend is the same body
    }
    return _render(certificate, check, values, {}, rows=0)  # tests are added one at a time


@bp.post("/gate")
@login_required
def record() -> Response | tuple[str, int] | str:
    """Record the gate check the verdict gives (or, with ``add_test``, one more test row)."""
    require(page_actor(), Action.INSPECT)
    certificate, mistake = _batch(request.form.get("code", ""))
    if certificate is None:
        typed = request.form.get("code", "")
        return render_template(
            "events/gate.html", typed=typed, mistake=mistake, reason=scan_reason(mistake), check=None
        ), 404
    if request.form.get("add_test"):
        return _again(certificate, {}, 200, extra=1)
    try:
        with db.transaction() as session:
            check = _check(certificate, request.form)
            if check.result != request.form.get("verdict", check.result):
                raise VerdictChanged(_("The verdict has changed: check it and record again."))
            data = EventIn().load(_payload(certificate, check, request.form))
            event, created = services.record_event(session, page_actor(), data=data, settings=_settings())
    except ValidationError as exc:
        return _again(certificate, error_map(exc.messages), 422)
    except InvalidInput as exc:
        return _again(certificate, error_map(errors=exc.errors), exc.status)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _again(certificate, {"": exc.detail or ""}, exc.status)
    done = _("Recorded: accepted.") if event.details.get("result") == "accepted" else _("Recorded: rejected.")
    flash(f"{done if created else _('Already recorded.')} {codes.format_trace_code(certificate.trace_code)}")
    return redirect(url_for("gate.page"))


class VerdictChanged(DomainError):
    """The verdict at the time of the post is not the one the operator saw: nothing recorded."""

    status = 409
    slug = "verdict-changed"


def _settings() -> services.EventSettings:
    return services.EventSettings.from_config(current_app.config)


def _batch(typed: str) -> tuple[Certificate | None, str | None]:
    """The batch of a typed code, a scanned QR URL or a case label's GS1-128 (GTIN + lot), else
    None and why (``bad_check``, ``bad_gtin_check_digit``, ``unknown_gtin`` ...)."""
    certificate = find_by_code(db.session(), typed)
    if certificate is None:
        return None, scan_problem(db.session(), typed)
    return certificate, None


def _tests(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The rapid test rows typed so far, as ``RapidTestIn`` would read them (numbers parsed)."""
    rows = form_payload(form).get("tests") or []
    tests = []
    for row in rows if isinstance(rows, list) else []:
        value = row.get("value")
        try:
            row = {**row, "value": Decimal(value) if value else None}
        except ArithmeticError:
            row = {**row, "value": None}  # the schema names the field when the check is recorded
        if row.get("method"):
            tests.append(row)
    return tests


def _check(certificate: Certificate, form: MultiDict[str, str]) -> gate_check.GateCheck:
    results = gate_check.judged(_tests(form), threshold=_settings().inhibition_threshold)
    return gate_check.check_batch(
        db.session(),
        page_actor(),
        certificate,
        test_results=results,
        handover_code=bool(form.get("handover_code", "").strip()),
    )


def _payload(
    certificate: Certificate, check: gate_check.GateCheck, form: MultiDict[str, str]
) -> dict[str, Any]:
    """The ``EventIn`` body of the check: the form's fields, the verdict's result and status."""
    payload = {k: v for k, v in form_payload(form).items() if k not in _CONTROLS}
    if "quantity" not in payload:
        payload.pop("unit", None)  # no count: the server takes what was shipped, or records the check
    return {
        **payload,
        "kind": EventKind.INSPECTING.value,
        "trace_code": certificate.trace_code,
        "occurred_at": payload.get("occurred_at") or utcnow().isoformat(timespec="seconds"),
        "result": check.result,
        "certificate_status": check.certificate_status,
    }


def _rows(form: MultiDict[str, str], extra: int = 0) -> int:
    typed = form.get("rows", "")
    return max(0, min((int(typed) if typed.isdigit() else 0) + extra, TESTS))


def _again(certificate: Certificate, errors: dict[str, str], status: int, extra: int = 0) -> tuple[str, int]:
    """The verdict and the form again, as typed, with the messages at the top."""
    check = _check(certificate, request.form)
    return _render(certificate, check, request.form, errors, rows=_rows(request.form, extra)), status


def _render(
    certificate: Certificate,
    check: gate_check.GateCheck,
    values: Any,
    errors: dict[str, str],
    *,
    rows: int,
) -> str:
    return render_template(
        "events/gate.html",
        typed=codes.format_trace_code(certificate.trace_code),
        check=check,
        certificate=certificate,
        reasons=[_reason(certificate, reason) for reason in check.reasons],
        amounts=_amounts(certificate, check),
        values=values,
        errors=errors,
        rows=range(rows),
        units=[(unit.value, label) for unit, label in UNIT_LABELS.items()],
    )


def _reason(certificate: Certificate, reason: str) -> str:
    text = str(GATE_REASONS[reason])
    if reason == "revoked" and certificate.revoke_reason:
        return _("%(reason)s, because: %(why)s", reason=text, why=certificate.revoke_reason)
    return text


def _amounts(certificate: Certificate, check: gate_check.GateCheck) -> list[tuple[str, str]]:
    """Certificate, shipped to us, held by us: each with the batch's unit."""
    found = [(_("Certificate"), quantity_text(certificate.quantity, certificate.unit))]
    if check.shipped is not None:
        found.append((_("Shipped to you"), quantity_text(check.shipped, certificate.unit)))
    if check.held:
        found.append((_("You hold"), quantity_text(check.held, certificate.unit)))
    return found
