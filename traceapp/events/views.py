"""Pages for people who handle batches: what we hold, and a form for every kind of hop."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import auth, db
from traceapp.auth import login_required, page_actor
from traceapp.certificates.texts import STATUS_LABELS
from traceapp.errors import InvalidInput
from traceapp.events import forms, queries, services
from traceapp.events.models import EventKind
from traceapp.events.schemas import EventIn
from traceapp.events.texts import KIND_LABELS
from traceapp.forms import error_map
from traceapp.orgs.queries import other_organisations

bp = Blueprint("events", __name__)


@bp.get("/batches")
@login_required
def batches() -> str:
    """The organisation's batches (on hand and on their way) and its latest events."""
    actor = page_actor()
    return render_template(
        "events/batches.html",
        rows=queries.org_batches(db.session(), actor.org_id),
        carried=queries.carried_shipments(db.session(), actor.org_id),
        kinds_all=EventKind,
        recent=queries.recent_events(db.session(), actor.org_id),
        kinds=_kinds(),
        labels=KIND_LABELS,
        statuses=STATUS_LABELS,
        user=auth.page_user(),
    )


@bp.get("/events/new")
@login_required
def new() -> str:
    """The form for one kind of event (``?kind=``), for a batch (``?code=``) if given."""
    kind = _kind(request.args.get("kind"))
    return _render(kind, forms.blank_values(kind, request.args.get("code")), {})


@bp.post("/events/new")
@login_required
def create() -> Response | tuple[str, int]:
    """Record the event; on a bad field, the form again with the message beside it."""
    kind = _kind(request.form.get("kind"))
    try:
        with db.transaction() as session:
            data = EventIn().load(forms.event_payload(request.form, request.files))
            event, _created = services.record_event(
                session,
                page_actor(),
                data=data,
                settings=services.EventSettings.from_config(current_app.config),
            )
    except ValidationError as exc:
        return _render(kind, _typed(), error_map(exc.messages)), 422
    except InvalidInput as exc:
        return _render(kind, _typed(), error_map(errors=exc.errors)), exc.status
    flash(_("Recorded: %(kind)s.", kind=KIND_LABELS[event.kind]))
    if event.kind is EventKind.AGGREGATING:  # to the new pallet, whose label is printed there
        return redirect(url_for("pallets.pallet_page", sscc=event.details["sscc"]))
    return redirect(url_for("events.batches"))


def _kind(value: str | None) -> EventKind:
    """The kind asked for if the user is offered its form, else the usual first."""
    offered = _kinds()
    return next((kind for kind in offered if kind.value == value), offered[0])


def _kinds() -> list[EventKind]:
    return forms.kinds_for(page_actor())


def _typed() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
    values.update({k: request.form.getlist(k) for k in forms.LIST_FIELDS})
    return values


def _render(kind: EventKind, values: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template(
        "events/new.html",
        kind=kind.value,
        values=values,
        errors=errors,
        kinds=_kinds(),
        labels=KIND_LABELS,
        rows=range(forms.ROWS),
        orgs=[(str(o.id), o.name) for o in other_organisations(db.session(), page_actor())],
    )
