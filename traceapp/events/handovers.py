"""Hand-over codes: the holder's word, at the market gate, that its stock may pass to the market.

A trace code is printed on every label, so showing it proves nothing: anyone who has seen the
batch can type it. A hand-over code is something only the holder has. Its app shows the code
(or it is written on the delivery note the seller carries); the gate types or scans it with the
batch, and the accepted gate check takes the stock from that holder, recorded as such.

A code is bound to one batch and one holder, may name the one market allowed to redeem it and
the most it hands over, expires (``TRACEAPP_HANDOVER_CODE_HOURS``) and is redeemed once: the
claim is a conditional UPDATE, so two gates (or two instances) cannot both use it. It is
``CODE_LENGTH`` symbols of the trace-code alphabet (50 bits): not guessable within its life.
Only its SHA-256 is stored; the code itself is an HMAC of the row's id under the secret key, so
the holder's page (and a replayed request) can show it again.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from traceapp import idempotency
from traceapp.certificates.models import Certificate
from traceapp.certificates.queries import find_by_code
from traceapp.codes import ALPHABET
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput
from traceapp.events import rules
from traceapp.events.holdings import held
from traceapp.events.models import Event, HandoverCode
from traceapp.events.recording import CertificateRevoked, NotHolder, Recording, is_quarantined
from traceapp.orgs.models import Organisation, OrgKind
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor
from traceapp.schemas import decimal_text

CODE_LENGTH = 10


class HandoverCodeUsed(Conflict):
    slug = "handover-code-used"


@dataclass(frozen=True)
class HandoverSettings:
    """The key codes are derived with, and how long a code stays good."""

    secret: str
    lifetime: timedelta

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HandoverSettings:
        return cls(str(config["SECRET_KEY"]), timedelta(hours=float(config["HANDOVER_CODE_HOURS"])))


def code_of(secret: str, handover_id: uuid.UUID) -> str:
    """The hand-over code of a row: an HMAC of its id, in the trace-code alphabet."""
    digest = hmac.new(secret.encode(), b"handover:" + handover_id.bytes, hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def display(code: str) -> str:
    """``ABCDE-FGHJK``: how people read and type it."""
    return f"{code[:5]}-{code[5:]}"


def normalize(text: str) -> str:
    """A typed code as stored: NFKC (full-width input), no spaces or dashes, upper case."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-_‐‑–—").upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def create_handover_code(
    session: Session, actor: Actor, *, data: dict[str, Any], settings: HandoverSettings
) -> tuple[HandoverCode, bool]:
    """Give a hand-over code for stock the actor holds; return the row and whether it is new.

    The same ``event_id`` and body return the stored code. Raises PermissionDenied, NotHolder
    (nothing of the batch on hand), Conflict (revoked or recalled batch; event_id reused) and
    InvalidInput naming the field (``/trace_code``, ``/quantity``, ``/unit``, ``/to_org``).
    """
    require(actor, Action.HAND_OVER)
    digest = idempotency.request_digest(data)
    return idempotency.insert_once(
        session,
        lambda: _create(session, actor, data, settings, digest),
        lambda: idempotency.stored(
            session, HandoverCode, org_id=actor.org_id, event_id=data["event_id"], digest=digest
        ),
    )


def _create(
    session: Session, actor: Actor, data: dict[str, Any], settings: HandoverSettings, digest: str
) -> HandoverCode:
    certificate = find_by_code(session, data["trace_code"])
    if certificate is None:
        raise InvalidInput("/trace_code", _("No certificate has this trace code."))
    if certificate.is_revoked:
        raise CertificateRevoked(_("This certificate is revoked; the batch cannot move on."))
    if is_quarantined(session, certificate.id):
        raise Conflict(_("This batch is recalled; it cannot move on."))
    have = held(session, certificate.id, actor.org_id)
    if have <= 0:
        raise NotHolder(_("Your organisation does not hold this batch."))
    quantity = _quantity(data, certificate.unit, have)
    market = _market(session, data.get("to_org"))
    row_id, now = uuid.uuid4(), utcnow()
    row = HandoverCode(
        id=row_id,
        certificate_id=certificate.id,
        org_id=actor.org_id,
        created_by_id=actor.user_id,
        client_event_id=data["event_id"],
        request_digest=digest,
        code_hash=code_hash(code_of(settings.secret, row_id)),
        quantity=quantity,
        to_org_id=market,
        created_at=now,
        expires_at=now + settings.lifetime,
    )
    session.add(row)
    session.flush()
    return row


def _quantity(data: dict[str, Any], unit: Any, have: Decimal) -> Decimal | None:
    if data.get("quantity") is None:
        return None
    if data.get("unit") is None:
        raise InvalidInput("/unit", _("This field is required."))
    quantity = rules.to_batch_unit(data["quantity"], data["unit"], unit)
    if quantity is None:
        raise InvalidInput("/unit", _("This batch is counted in another unit."))
    if quantity > have:
        raise InvalidInput(
            "/quantity", _("More than your organisation holds (%(have)s).", have=decimal_text(have))
        )
    return quantity


def _market(session: Session, org_id: uuid.UUID | None) -> uuid.UUID | None:
    if org_id is None:
        return None
    org = session.get(Organisation, org_id)
    if org is None or org.kind is not OrgKind.MARKET:
        raise InvalidInput("/to_org", _("No market has this id."))
    return org.id


def cancel_handover_code(session: Session, actor: Actor, *, handover_id: uuid.UUID) -> HandoverCode:
    """Withdraw an unused code of the actor's organisation (cancelling twice is harmless).

    Raises InvalidInput (no such code of the organisation) and HandoverCodeUsed.
    """
    row = session.get(HandoverCode, handover_id)
    if row is None or row.org_id != actor.org_id:
        raise InvalidInput("/handover_id", _("No hand-over code of your organisation has this id."))
    if row.used_at is not None:
        raise HandoverCodeUsed(_("This hand-over code has already been used."))
    if row.cancelled_at is None:
        row.cancelled_at = utcnow()
        session.flush()
    return row


def valid_code(rec: Recording, certificate_id: uuid.UUID) -> HandoverCode:
    """The hand-over code the gate check gives, for this batch and this market.

    Raises InvalidInput on ``/handover_code`` (wrong batch, unknown, withdrawn, expired, for
    another market: one message, so a guess learns nothing) and HandoverCodeUsed.
    """
    row = rec.session.scalar(
        sa.select(HandoverCode).where(
            HandoverCode.code_hash == code_hash(rec.data["handover_code"]),
            HandoverCode.certificate_id == certificate_id,
        )
    )
    if (
        row is None
        or row.cancelled_at is not None
        or row.expires_at <= rec.event.recorded_at
        or row.to_org_id not in (None, rec.actor.org_id)
    ):
        raise InvalidInput(
            "/handover_code", _("This hand-over code is not valid for this batch at this gate.")
        )
    if row.used_at is not None:
        raise HandoverCodeUsed(_("This hand-over code has already been used."))
    return row


def redeem(rec: Recording, row: HandoverCode) -> None:
    """Use the code for this gate check, once: a concurrent second use finds it used."""
    claimed = rec.session.execute(
        sa.update(HandoverCode)
        .where(HandoverCode.id == row.id, HandoverCode.used_at.is_(None))
        .values(used_at=rec.event.recorded_at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise HandoverCodeUsed(_("This hand-over code has already been used."))

    def _link(event: Event) -> None:
        rec.session.execute(
            sa.update(HandoverCode).where(HandoverCode.id == row.id).values(used_by_event_id=event.id)
        )

    rec.after_persist.append(_link)


@dataclass(frozen=True)
class CodeRow:
    """A hand-over code as its holder's page and API show it."""

    row: HandoverCode
    code: str
    trace_code: str
    unit: str | None
    to_org: str | None

    def state(self, now: datetime) -> str:
        """``used``, ``cancelled``, ``expired`` or ``active``."""
        if self.row.used_at is not None:
            return "used"
        if self.row.cancelled_at is not None:
            return "cancelled"
        return "expired" if self.row.expires_at <= now else "active"


def _code_rows() -> sa.Select[Any]:
    market = aliased(Organisation)
    return (
        sa.select(HandoverCode, Certificate.trace_code, Certificate.unit, market.name)
        .join(Certificate, Certificate.id == HandoverCode.certificate_id)
        .outerjoin(market, market.id == HandoverCode.to_org_id)
    )


def _code_row(
    settings: HandoverSettings, row: HandoverCode, code: str, unit: Any, market: str | None
) -> CodeRow:
    shown_unit = unit.value if row.quantity is not None else None
    return CodeRow(row, code_of(settings.secret, row.id), code, shown_unit, market)


def codes_of(session: Session, actor: Actor, settings: HandoverSettings, limit: int = 50) -> list[CodeRow]:
    """The organisation's latest hand-over codes, newest first."""
    query = _code_rows().where(HandoverCode.org_id == actor.org_id)
    rows = session.execute(query.order_by(HandoverCode.created_at.desc()).limit(limit)).all()
    return [_code_row(settings, *row) for row in rows]


def code_row(session: Session, row: HandoverCode, settings: HandoverSettings) -> CodeRow:
    """One code with what its document names."""
    found = session.execute(_code_rows().where(HandoverCode.id == row.id)).one()
    return _code_row(settings, *found)


def markets(session: Session, limit: int = 200) -> list[tuple[str, str]]:
    """(id, name) of the markets a code may be limited to, by name."""
    rows = session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrgKind.MARKET)
        .order_by(Organisation.name)
        .limit(limit)
    )
    return [(str(org_id), name) for org_id, name in rows]
