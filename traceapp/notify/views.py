"""The inbox page: the organisation's notifications, newest first; mark them read."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from traceapp import db
from traceapp.auth import login_required, page_actor
from traceapp.notify import documents, services
from traceapp.notify.schemas import NotificationQuery
from traceapp.orgs.forms import load_query

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
