"""The audit log: who signed in (or failed to), made, used or revoked a token, revoked a
certificate, opened or closed a recall, changed a role, ...

``record`` adds one row to the caller's transaction, so an audited write and its audit row
commit together or not at all. Entries are never changed or deleted.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.orm import Session

from traceapp.orgs.models import AuditEntry

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in.failed"
SIGN_OUT = "sign_out"
PASSWORD_CHANGED = "password.changed"
TOKEN_CREATED = "token.created"
TOKEN_USED = "token.used"
TOKEN_REVOKED = "token.revoked"
CERTIFICATE_REVOKED = "certificate.revoked"
RECALL_OPENED = "recall.opened"
RECALL_ACKNOWLEDGED = "recall.acknowledged"
RECALL_CLOSED = "recall.closed"
ROLE_CHANGED = "user.role_changed"
MEMBER_ADDED = "user.added"
PASSWORD_RESET = "password.reset"
SETTINGS_CHANGED = "org.settings_changed"
DISPUTE_OPENED = "dispute.opened"
DISPUTE_RESOLVED = "dispute.resolved"
CONTACTS_CHANGED = "org.contacts_changed"
OPERATOR_CHANGED = "org.operator_changed"
SEAL_CHANGED = "org.seal_changed"


def record(
    session: Session,
    *,
    action: str,
    org_id: uuid.UUID | None,
    actor_user_id: uuid.UUID | None = None,
    token_id: uuid.UUID | None = None,
    subject_type: str | None = None,
    subject_id: Any = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session's transaction (flushed, not committed)."""
    entry = AuditEntry(
        action=action,
        org_id=org_id,
        actor_user_id=actor_user_id,
        token_id=token_id,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        details=details,
        address=(address or None) and address[:64],
    )
    session.add(entry)
    session.flush()
    return entry


class Acting(Protocol):
    """What ``record_by`` reads of an actor (``orgs.services.Actor`` has it)."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def org_id(self) -> uuid.UUID: ...

    @property
    def token_id(self) -> uuid.UUID | None: ...

    @property
    def address(self) -> str | None: ...


def record_by(session: Session, actor: Acting, *, action: str, **subject: Any) -> AuditEntry:
    """``record`` for an actor: its organisation, user, token and address."""
    return record(
        session,
        action=action,
        org_id=actor.org_id,
        actor_user_id=actor.user_id,
        token_id=actor.token_id,
        address=actor.address,
        **subject,
    )
