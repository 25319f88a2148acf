"""``/api/v1/notifications``: what happened to the caller's organisation's batches."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from traceapp import db
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.notify import documents, services
from traceapp.notify.schemas import NotificationOut, NotificationPageOut, NotificationQuery

blp = ApiBlueprint(
    "notifications_api",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Notifications: batches rejected at a gate, recalled, disputed or received short.",
)


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List your organisation's notifications, newest first (``unread=true``: unread only)."""
        session, actor = db.session(), api_actor()
        page, size = args["page"], args["page_size"]
        rows, total = services.list_notifications(
            session, actor, unread=args["unread"], page=page, page_size=size
        )
        items = [documents.notification_document(n) for n in rows]
        unread = services.unread_count(session, actor.org_id)
        return {"items": items, "page": page, "page_size": size, "total": total, "unread": unread}


@blp.route("/<uuid:notification_id>/read")
class ReadNotification(MethodView):
    @blp.response(200, NotificationOut)
    def post(self, notification_id: uuid.UUID) -> dict[str, Any]:
        """Mark one of your organisation's notifications read (again: keeps the first time)."""
        with db.transaction() as session:
            notification = services.mark_read(session, api_actor(), notification_id=notification_id)
        return documents.notification_document(notification)
