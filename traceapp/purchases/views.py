"""Purchase pages: record one on a phone (code typed or scanned into a text field, paper photo
from the camera), the list, and one purchase. The form loads through the API's schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import clock, db, zones
from traceapp.auth import login_required, page_actor
from traceapp.certificates.texts import UNIT_LABELS
from traceapp.errors import DomainError, InvalidInput
from traceapp.events.recording import EventSettings
from traceapp.forms import error_map, form_payload
from traceapp.inputs import optional_file
from traceapp.orgs.permissions import Action, allows
from traceapp.purchases import services
from traceapp.purchases.queries import purchase_answer as answer
from traceapp.purchases.schemas import PurchaseIn
from traceapp.purchases.texts import COLLECTED_LABELS, EXEMPTION_LABELS

bp = Blueprint("purchases", __name__)
#: Lot rows on the form; rows left empty are dropped (no script needed to add one).
FORM_LINES = 3


@bp.get("/purchases")
@login_required
def index() -> str:
    """The purchases we may read, newest first."""
    with db.transaction() as session:
        found = [answer(session, p) for p in services.list_purchases(session, page_actor(), limit=100)]
    return render_template(
        "purchases/index.html", purchases=found, may_buy=allows(page_actor(), Action.PURCHASE)
    )


@bp.get("/purchases/new")
@login_required
def new() -> str:
    """A blank purchase form: a new client id, now in the organisation's zone."""
    fresh = {
        "event_id": str(uuid.uuid4()),
        "purchased_at": clock.now_in(zones.page_zone()).strftime("%Y-%m-%dT%H:%M"),
    }
    return _form({}, fresh)


@bp.post("/purchases/new")
@login_required
def record() -> Response | tuple[str, int]:
    """Record the purchase, photos first, in one transaction; or show the messages in place."""
    try:
        with db.transaction() as session:
            payload = _payload(session)
            data = PurchaseIn().load(payload)
            settings = EventSettings.from_config(current_app.config)
            purchase, _created = services.record_purchase(session, page_actor(), data=data, settings=settings)
            purchase_id = purchase.id
    except ValidationError as exc:
        return _form(error_map(exc.messages), request.form), 422
    except InvalidInput as exc:
        return _form(error_map(errors=exc.errors), request.form), exc.status
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _form({"": exc.detail or ""}, request.form), exc.status
    flash(_("Purchase recorded."))
    return redirect(url_for("purchases.detail", purchase_id=purchase_id))


@bp.get("/purchases/<uuid:purchase_id>")
@login_required
def detail(purchase_id: uuid.UUID) -> str:
    """One purchase with its lots and collected certificates."""
    with db.transaction() as session:
        actor = page_actor()
        purchase = services.get_purchase(session, actor, purchase_id)
        document = answer(session, purchase)
        may_void = purchase.org_id == actor.org_id and allows(actor, Action.PURCHASE)
    return render_template("purchases/detail.html", p=document, may_void=may_void, **_labels())


@bp.post("/purchases/<uuid:purchase_id>/void")
@login_required
def void(purchase_id: uuid.UUID) -> Response:
    """Void the purchase with the reason typed."""
    reason = request.form.get("reason", "").strip()
    settings = EventSettings.from_config(current_app.config)
    try:
        if not reason:
            raise InvalidInput("/reason", _("This field is required."))
        with db.transaction() as session:
            services.void_purchase(
                session, page_actor(), purchase_id=purchase_id, reason=reason[:500], settings=settings
            )
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        flash(exc.errors[0].message if exc.errors else exc.detail or "")
        return redirect(url_for("purchases.detail", purchase_id=purchase_id))
    flash(_("Purchase voided."))
    return redirect(url_for("purchases.detail", purchase_id=purchase_id))


@bp.get("/purchases/photos/<uuid:photo_id>")
@login_required
def photo(photo_id: uuid.UUID) -> Response:
    """A paper certificate's photo, for the buyer that took it or a regulator."""
    with db.transaction() as session:
        found = services.get_photo(session, page_actor(), photo_id)
        body, kind = found.content, found.content_type
    return Response(body, mimetype=kind, headers={"Cache-Control": "private, no-store"})


def _payload(session: Any) -> dict[str, Any]:
    """The form as a ``PurchaseIn`` body: the time in the organisation's zone, each lot's photo
    uploaded (and named by its id) in this transaction."""
    payload = form_payload(request.form)
    if payload.get("purchased_at"):
        payload["purchased_at"] = _local(payload["purchased_at"], ZoneInfo(zones.page_zone()))
    rows = {str(i): row for i, row in enumerate(payload.get("lines") or [])}
    for index in range(FORM_LINES):
        photo = optional_file(request.files, f"lines.{index}.photo")
        if photo is not None and str(index) in rows:
            limit = current_app.config["PURCHASE_PHOTO_MAX_BYTES"]
            try:
                row = services.upload_photo(
                    session, page_actor(), content=photo.read(limit + 1), max_bytes=limit
                )
            except InvalidInput as exc:
                raise InvalidInput(f"/lines/{index}/photo", exc.errors[0].message) from None
            rows[str(index)]["photo_id"] = str(row.id)
    return payload


def _local(text: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema names the field
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _labels() -> dict[str, Any]:
    return {"collected_labels": COLLECTED_LABELS, "exemption_labels": EXEMPTION_LABELS}


def _form(errors: dict[str, str], values: Any) -> str:
    return render_template(
        "purchases/new.html",
        errors=errors,
        values=values,
        lines=range(FORM_LINES),
        units=[(unit.value, label) for unit, label in UNIT_LABELS.items()],
        collected=list(COLLECTED_LABELS.items()),
        exemptions=list(EXEMPTION_LABELS.items()),
        **_labels(),
    )
