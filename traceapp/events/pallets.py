"""Pallets: cases of held batches aggregated onto a logistic unit with an SSCC.

An ``aggregating`` event (EPCIS AggregationEvent ADD, bizStep packing) names the cases packed
onto a new pallet: each a batch the organisation holds and how much of it. The pallet gets an
SSCC allocated from the organisation's GS1 company prefix: extension digit 0, the prefix, the
next serial reference of the organisation (a counter on its row, taken with one UPDATE ...
RETURNING, so two packers never get the same one) and the check digit. Aggregating does not
move custody: holdings stay as they are; the pallet lists what is on it, the trace finds the
pallet from any of its batches and the batches from the pallet (``recalls/graph.py``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate
from traceapp.errors import Conflict, InvalidInput
from traceapp.events.models import Event, EventItem, EventKind, ItemRole, Pallet
from traceapp.events.recording import Recording
from traceapp.orgs.models import Organisation

EXTENSION_DIGIT = "0"
_PREFIX = re.compile(r"[0-9]{6,12}")
_SSCC = re.compile(r"[0-9]{18}")


class NoCompanyPrefix(Conflict):
    slug = "no-gs1-company-prefix"


class SerialsExhausted(Conflict):
    slug = "sscc-serials-exhausted"


class PalletElsewhere(Conflict):
    """A pallet shipped by an organisation that does not have it (it shipped it already)."""

    slug = "pallet-not-with-you"


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of the digits before it (GTIN, SSCC, GLN)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def valid_prefix(prefix: str) -> bool:
    """Whether ``prefix`` has the shape of a GS1 company prefix: 6 to 12 digits."""
    return bool(_PREFIX.fullmatch(prefix))


def make_sscc(prefix: str, serial: int, extension: str = EXTENSION_DIGIT) -> str:
    """The 18-digit SSCC of ``serial`` under ``prefix``. Raises ValueError when the serial
    reference does not fit in the 16 - len(prefix) digits left."""
    width = 16 - len(prefix)
    if not valid_prefix(prefix) or not 0 <= serial < 10**width:
        raise ValueError(f"serial {serial} does not fit under prefix {prefix!r}")
    body = f"{extension}{prefix}{serial:0{width}d}"
    return body + check_digit(body)


def is_valid_sscc(sscc: str) -> bool:
    """18 digits with a correct check digit."""
    return bool(_SSCC.fullmatch(sscc)) and check_digit(sscc[:-1]) == sscc[-1]


def sscc_urn(sscc: str, prefix_length: int) -> str:
    """The EPC pure identity URI: ``urn:epc:id:sscc:{prefix}.{extension}{serial reference}``."""
    return f"urn:epc:id:sscc:{sscc[1 : 1 + prefix_length]}.{sscc[0]}{sscc[1 + prefix_length : 17]}"


def allocate_sscc(session: Session, org_id: uuid.UUID) -> tuple[str, str]:
    """The next SSCC of the organisation and its EPC URI. Raises NoCompanyPrefix, and
    SerialsExhausted when the prefix has no serial reference left."""
    row = session.execute(
        sa.update(Organisation)
        .where(Organisation.id == org_id, Organisation.gs1_company_prefix.is_not(None))
        .values(sscc_last_serial=Organisation.sscc_last_serial + 1)
        .returning(Organisation.gs1_company_prefix, Organisation.sscc_last_serial)
    ).first()
    if row is None:
        raise NoCompanyPrefix(
            _("Set your organisation's GS1 company prefix in its settings before building pallets.")
        )
    prefix, serial = row
    try:
        sscc = make_sscc(prefix, serial)
    except ValueError:
        raise SerialsExhausted(_("Every SSCC of your GS1 company prefix has been used.")) from None
    return sscc, sscc_urn(sscc, len(prefix))


def aggregate(rec: Recording) -> None:
    """Pack cases of batches the actor holds onto a new pallet with its SSCC."""
    seen: set[str] = set()
    for i, wanted in enumerate(rec.data["cases"]):
        field = f"/cases/{i}"
        certificate = rec.batch(wanted["trace_code"], field_name=f"{field}/trace_code")
        if certificate.trace_code in seen:
            raise InvalidInput(f"{field}/trace_code", _("Each batch may appear once."))
        seen.add(certificate.trace_code)
        rec.refuse_revoked(certificate)
        amount = rec.quantity(certificate, wanted["quantity"], wanted["unit"], field_name=f"{field}/unit")
        if amount > rec.require_holder(certificate):
            raise InvalidInput(f"{field}/quantity", _("More than your organisation holds of this batch."))
        rec.add_item(certificate, ItemRole.SUBJECT, amount)
    sscc, urn = allocate_sscc(rec.session, rec.actor.org_id)
    rec.event.details = {**rec.event.details, "sscc": sscc, "parent_id": urn}
    rec.after_persist.append(
        lambda event: rec.session.add(Pallet(org_id=rec.actor.org_id, sscc=sscc, event_id=event.id))
    )


# --- reading pallets -----------------------------------------------------------------------


@dataclass(frozen=True)
class PalletCase:
    """One batch on a pallet and how much of it."""

    certificate: Certificate
    quantity: Decimal | None


@dataclass(frozen=True)
class PalletView:
    pallet: Pallet
    event: Event
    org_name: str
    cases: list[PalletCase]


def find_pallet(session: Session, sscc: str) -> PalletView | None:
    """The pallet of an SSCC with its event and contents (two statements), or None."""
    row = session.execute(
        sa.select(Pallet, Event, Organisation.name)
        .join(Event, Event.id == Pallet.event_id)
        .join(Organisation, Organisation.id == Pallet.org_id)
        .where(Pallet.sscc == sscc)
    ).first()
    if row is None:
        return None
    pallet, event, name = row
    cases = session.execute(
        sa.select(Certificate, EventItem.quantity)
        .join(EventItem, EventItem.certificate_id == Certificate.id)
        .where(EventItem.event_id == event.id)
        .order_by(EventItem.position)
    ).all()
    return PalletView(pallet, event, name, [PalletCase(c, q) for c, q in cases])


def holder_of(session: Session, view: PalletView) -> uuid.UUID:
    """Who has the pallet now: the organisation its last shipment (not voided since) went to,
    else the organisation that packed it (one statement)."""
    voiding = sa.orm.aliased(Event)
    last = session.scalar(
        sa.select(Event.destination_org_id)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(
            Event.kind == EventKind.SHIPPING,
            EventItem.certificate_id.in_([c.certificate.id for c in view.cases]),
            Event.details["sscc"].as_string() == view.pallet.sscc,
            ~sa.exists().where(voiding.corrects_id == Event.id),
        )
        .order_by(Event.occurred_at.desc(), Event.recorded_at.desc())
        .limit(1)
    )
    return last or view.pallet.org_id


def pallets_of(session: Session, batches: set[uuid.UUID]) -> list[tuple[str, uuid.UUID]]:
    """The (SSCC, batch id) pairs of every pallet that carries any of ``batches`` (one query)."""
    if not batches:
        return []
    rows = session.execute(
        sa.select(Pallet.sscc, EventItem.certificate_id)
        .join(Event, Event.id == Pallet.event_id)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(Event.kind == EventKind.AGGREGATING, EventItem.certificate_id.in_(batches))
        .order_by(Pallet.sscc)
    ).all()
    return [(sscc, cid) for sscc, cid in rows]
