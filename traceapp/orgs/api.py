"""``/api/v1/tokens`` (the caller's API tokens: list, create, revoke) and ``/api/v1/audit``."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from traceapp import db
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.orgs import documents, queries, services
from traceapp.orgs.schemas import AuditPageOut, AuditQuery, NewTokenOut, TokenIn, TokenListOut, TokenOut

tokens_blp = ApiBlueprint(
    "tokens_api",
    __name__,
    url_prefix="/api/v1/tokens",
    description="API tokens: list, create and revoke (an admin: those of the whole organisation).",
)
audit_blp = ApiBlueprint(
    "audit_api",
    __name__,
    url_prefix="/api/v1/audit",
    description="The audit log: an organisation's admin reads its own, a regulator every one.",
)


@tokens_blp.route("")
class Tokens(MethodView):
    @tokens_blp.response(200, TokenListOut)
    def get(self) -> dict[str, Any]:
        """List the caller's tokens (an admin: every token of the organisation), newest first."""
        tokens = services.visible_tokens(db.session(), api_actor())
        return {"items": [documents.token_document(t) for t in tokens]}

    @tokens_blp.arguments(TokenIn)
    @tokens_blp.response(201, NewTokenOut)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a token for the caller; its secret is in this answer only.

        A token gives at most its own scopes, and no later expiry than its own."""
        with db.transaction() as session:
            token, plaintext = services.create_own_token(session, api_actor(), **data)
        return {**documents.token_document(token), "token": plaintext}


@tokens_blp.route("/<uuid:token_id>/revoke")
class RevokeToken(MethodView):
    @tokens_blp.response(200, TokenOut)
    def post(self, token_id: uuid.UUID) -> dict[str, Any]:
        """Revoke a token: from now on it answers 401."""
        with db.transaction() as session:
            token = services.revoke_api_token(session, api_actor(), token_id=token_id)
        return documents.token_document(token)


@audit_blp.route("")
class AuditLog(MethodView):
    @audit_blp.arguments(AuditQuery, location="query")
    @audit_blp.response(200, AuditPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Read the audit log, newest first (sign-ins, tokens, revocations, recalls, roles)."""
        rows, total = queries.audit_log(db.session(), api_actor(), **args)
        items = [documents.audit_document(e) for e in rows]
        return {"items": items, "page": args["page"], "page_size": args["page_size"], "total": total}
