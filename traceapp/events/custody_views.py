"""The custody page: hand-over codes for the gate, the gate checks that took our stock (to
dispute), and the disputes (a regulator resolves them here)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import db
from traceapp.auth import login_required, page_actor
from traceapp.certificates.texts import UNIT_LABELS
from traceapp.db import utcnow
from traceapp.errors import DomainError, InvalidInput
from traceapp.events import disputes, handovers
from traceapp.events.custody_schemas import DisputeIn, HandoverCodeIn, ResolutionIn
from traceapp.events.recording import EventSettings
from traceapp.events.texts import BASIS_LABELS, DISPUTE_LABELS, HANDOVER_STATES
from traceapp.forms import error_map, form_payload
from traceapp.orgs.permissions import Action, allows

bp = Blueprint("custody", __name__)


def _settings() -> handovers.HandoverSettings:
    return handovers.HandoverSettings.from_config(current_app.config)


@bp.get("/custody")
@login_required
def index() -> str:
    """Our hand-over codes, the gate checks that took our stock, and the disputes."""
    return _render({}, {})


@bp.post("/custody/codes")
@login_required
def give_code() -> Response | tuple[str, int]:
    """Give a hand-over code for stock we hold; the page shows it."""
    return _write(
        "code",
        HandoverCodeIn,
        lambda s, a, d: handovers.create_handover_code(s, a, data=d, settings=_settings()),
        _("Hand-over code ready: show it at the gate."),
    )


@bp.post("/custody/disputes")
@login_required
def open_dispute() -> Response | tuple[str, int]:
    """Dispute a gate check that took our stock."""
    return _write(
        "dispute",
        DisputeIn,
        lambda s, a, d: disputes.open_dispute(s, a, data=d),
        _("Dispute opened: a regulator will decide."),
    )


@bp.post("/custody/disputes/<uuid:dispute_id>/resolve")
@login_required
def resolve(dispute_id: uuid.UUID) -> Response | tuple[str, int]:
    """Uphold or dismiss a dispute (regulators)."""
    settings = EventSettings.from_config(current_app.config)

    def act(session: Any, actor: Any, data: dict[str, Any]) -> Any:
        return disputes.resolve_dispute(session, actor, dispute_id=dispute_id, data=data, settings=settings)

    return _write(f"resolve-{dispute_id}", ResolutionIn, act, _("Dispute resolved."))


def _write(form: str, schema: Any, act: Any, done: str) -> Response | tuple[str, int]:
    """Load the form through the API's schema, act in one transaction, or show the messages."""
    payload = form_payload(request.form)
    try:
        with db.transaction() as session:
            act(session, page_actor(), schema().load(payload))
    except ValidationError as exc:
        return _render({form: error_map(exc.messages)}, {form: request.form}), 422
    except InvalidInput as exc:
        return _render({form: error_map(errors=exc.errors)}, {form: request.form}), exc.status
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _render({form: {"": exc.detail or ""}}, {form: request.form}), exc.status
    flash(done)
    return redirect(url_for("custody.index"))


def _render(errors: dict[str, dict[str, str]], values: dict[str, Any]) -> str:
    actor, session = page_actor(), db.session()
    return render_template(
        "events/custody.html",
        errors=errors,
        values=values,
        new_id=str(uuid.uuid4()),
        may_hand_over=allows(actor, Action.HAND_OVER),
        may_dispute=allows(actor, Action.DISPUTE),
        may_resolve=allows(actor, Action.RESOLVE_DISPUTE),
        codes=handovers.codes_of(session, actor, _settings()) if allows(actor, Action.HAND_OVER) else [],
        takes=disputes.gate_takes(session, actor) if allows(actor, Action.DISPUTE) else [],
        disputes=disputes.disputes_for(session, actor),
        markets=handovers.markets(session),
        units=[(unit.value, label) for unit, label in UNIT_LABELS.items()],
        now=utcnow(),
        display=handovers.display,
        basis_labels=BASIS_LABELS,
        dispute_labels=DISPUTE_LABELS,
        code_states=HANDOVER_STATES,
    )
