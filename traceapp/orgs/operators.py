"""The operator as the law names it (NY/T 4712's base information): a legal person's unified
social credit code, or a natural person's name and identity number; the operator's own address
(never the place of production); the national platform's operator code (主体码).

The identity number is read in full only by the person's own organisation and by regulators
(``may_read_id_number``); everyone else, every export for them and every public page get it
masked (``identity.mask_id_number``). It is stored as typed (not encrypted): see the README.

Services flush; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp import clock
from traceapp.errors import InvalidInput, NotFound
from traceapp.orgs import audit, identity
from traceapp.orgs.models import Organisation, OrgKind
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor

#: The operator fields, in the order they are set and shown.
FIELDS = ("credit_code", "person_name", "id_number", "platform_code", "address")
MAX_LENGTHS = {"person_name": 100, "address": 300}


def may_read_id_number(
    reader_kind: OrgKind | None, reader_org_id: uuid.UUID | None, org_id: uuid.UUID
) -> bool:
    """Whether a reader (its organisation's kind and id; None for the public) may read an
    organisation's identity number in full: its own organisation and regulators only."""
    return reader_kind is OrgKind.REGULATOR or (reader_org_id is not None and reader_org_id == org_id)


def _normalise(name: str, value: str, zone: str) -> str:
    """One field as stored. Raises InvalidInput naming it."""
    try:
        if name == "credit_code":
            return identity.credit_code(value)
        if name == "id_number":
            return identity.id_number(value, today=clock.today_in(zone))
        if name == "platform_code":
            return identity.platform_code(value)
    except identity.BadIdentifier as exc:
        raise InvalidInput(name, exc.message) from None
    value = " ".join(value.split())
    if len(value) > MAX_LENGTHS[name]:
        raise InvalidInput(name, _("At most %(n)d characters.", n=MAX_LENGTHS[name]))
    return value


def set_operator(session: Session, actor: Actor, *, changes: dict[str, str | None]) -> Organisation:
    """Set (a value) or clear (None or "") the given operator fields of the actor's organisation,
    each checked by its standard, and audit what changed (the identity number masked).

    Raises PermissionDenied (not an admin) and InvalidInput naming the field: a bad check
    character, an impossible birth date, an identity number without the person's name."""
    require(actor, Action.MANAGE_SETTINGS)
    org = session.get_one(Organisation, actor.org_id)
    values = {
        name: _normalise(name, raw.strip(), org.timezone) if raw and raw.strip() else None
        for name, raw in changes.items()
    }
    after = {name: values.get(name, getattr(org, name)) for name in FIELDS}
    if after["id_number"] and not after["person_name"]:
        raise InvalidInput("person_name", _("Give the person's name with their identity number."))
    changed = {name: value for name, value in values.items() if getattr(org, name) != value}
    if not changed:
        return org
    shown: Callable[[Any], Any] = identity.mask_id_number
    details = {
        name: {
            "from": shown(getattr(org, name)) if name == "id_number" else getattr(org, name),
            "to": shown(value) if name == "id_number" else value,
        }
        for name, value in changed.items()
    }
    for name, value in changed.items():
        setattr(org, name, value)
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.OPERATOR_CHANGED,
        subject_type="organisation",
        subject_id=org.id,
        details=details,
    )
    return org


def operator_document(
    org: Organisation, *, reader_kind: OrgKind | None, reader_org_id: uuid.UUID | None
) -> dict[str, Any]:
    """An organisation's operator fields for one reader: the identity number in full for its
    own organisation and regulators, masked for everyone else."""
    full = may_read_id_number(reader_kind, reader_org_id, org.id)
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind.value,
        "operator_type": operator_type(org),
        "credit_code": org.credit_code,
        "person_name": org.person_name,
        "id_number": org.id_number if full else identity.mask_id_number(org.id_number),
        "id_number_masked": bool(org.id_number) and not full,
        "platform_code": org.platform_code,
        "address": org.address,
        "region_code": org.region_code,
        "phone": org.phone,
    }


def operator_type(org: Organisation) -> str | None:
    """``legal_person`` (it has a credit code), ``natural_person`` (a name and identity number,
    no credit code), or None (neither yet)."""
    if org.credit_code:
        return "legal_person"
    if org.id_number:
        return "natural_person"
    return None


def operator_of(session: Session, actor: Actor, org_id: uuid.UUID) -> dict[str, Any]:
    """Any organisation's operator fields as the actor may read them. Raises NotFound."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return operator_document(org, reader_kind=actor.org_kind, reader_org_id=actor.org_id)
