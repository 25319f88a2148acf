"""The JSON the token and audit endpoints answer, built from rows."""

from __future__ import annotations

from typing import Any

from traceapp.db import utcnow
from traceapp.orgs.models import ApiToken, AuditEntry


def token_status(token: ApiToken) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= utcnow():
        return "expired"
    return "active"


def token_document(token: ApiToken) -> dict[str, Any]:
    """A token as listed (never its secret)."""
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "owner": {"id": token.user.id, "email": token.user.email, "mobile": token.user.mobile},
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "status": token_status(token),
    }


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry."""
    return {
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "org_id": entry.org_id,
        "actor_user_id": entry.actor_user_id,
        "actor_email": entry.actor.email if entry.actor else None,
        "actor_mobile": entry.actor.mobile if entry.actor else None,
        "token_id": entry.token_id,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "details": entry.details,
        "address": entry.address,
    }
