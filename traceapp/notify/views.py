"""The inbox page: the organisation's notifications, newest first; mark them read; where they go."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import db, sealed
from traceapp.auth import login_required, page_actor
from traceapp.errors import InvalidInput
from traceapp.forms import error_map, form_payload
from traceapp.notify import documents, services
from traceapp.notify.schemas import ContactsIn, NotificationQuery
from traceapp.orgs import services as orgs
from traceapp.orgs.forms import load_query
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, require

bp = Blueprint("notify", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def inbox() -> str:
    """The inbox: newest first, unread ones marked; ``?unread=true`` for those only."""
    args = load_query(NotificationQuery, request.args)
    rows, total = services.list_notifications(
        db.session(), page_actor(), unread=args["unread"], page=args["page"], page_size=args["page_size"]
    )
    return render_template(
        "notify/inbox.html",
        rows=[documents.notification_document(n) for n in rows],
        total=total,
        page=args["page"],
        size=args["page_size"],
        unread_only=args["unread"] is True,
    )


@bp.post("/<uuid:notification_id>/read")
@login_required
def mark_read(notification_id: uuid.UUID) -> Response:
    """Mark one notification read and come back to the inbox."""
    with db.transaction() as session:
        services.mark_read(session, page_actor(), notification_id=notification_id)
    return redirect(url_for("notify.inbox"))


@bp.post("/read-all")
@login_required
def mark_all_read() -> Response:
    """Mark every notification read."""
    with db.transaction() as session:
        count = services.mark_all_read(session, page_actor())
    flash(_("%(count)d notifications marked read.", count=count))
    return redirect(url_for("notify.inbox"))


@bp.get("/settings")
@login_required
def settings() -> str:
    """Where the organisation's notifications go (its admins)."""
    actor = page_actor()
    require(actor, Action.MANAGE_NOTIFICATIONS)
    return _settings_page(db.session().get(Organisation, actor.org_id), {}, None)


@bp.post("/settings")
@login_required
def save_settings() -> Response | tuple[str, int]:
    """Save the addresses; a new webhook URL shows its signing secret this once."""
    payload = form_payload(request.form)
    try:
        with db.transaction() as session:
            data, keys = ContactsIn().load(payload), sealed.app_keys(current_app.config)
            org, secret = orgs.set_own_contacts(session, page_actor(), data=data, keys=keys)
    except ValidationError as exc:
        return _settings_page(None, error_map(exc.messages), payload), 422
    except InvalidInput as exc:
        return _settings_page(None, error_map(errors=exc.errors), payload), exc.status
    if secret:
        return render_template("notify/settings.html", values=_values(org), errors={}, secret=secret), 200
    flash(_("Saved."))
    return redirect(url_for("notify.settings"))


def _values(org: Organisation | None) -> dict[str, str]:
    if org is None:
        return {}
    return {"email": org.email or "", "phone": org.phone or "", "webhook_url": org.webhook_url or ""}


def _settings_page(org: Organisation | None, errors: dict[str, str], payload: dict | None) -> str:
    values = payload if payload is not None else _values(org)
    return render_template("notify/settings.html", values=values, errors=errors, secret=None)
