"""An event being recorded: the state every kind's rules read and fill in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp.certificates.models import Category, Certificate
from traceapp.certificates.queries import find_by_code, scan_problem
from traceapp.certificates.texts import scan_reason
from traceapp.codes import normalize_trace_code
from traceapp.coldchain.verdicts import Range
from traceapp.errors import Conflict, InvalidInput
from traceapp.events import rules
from traceapp.events.holdings import Ledger, QuantityExceeded, held
from traceapp.events.models import Event, EventItem, ItemRole, Quarantine, TemperatureReading
from traceapp.orgs.models import Organisation
from traceapp.orgs.services import Actor


class CertificateRevoked(Conflict):
    slug = "certificate-revoked"


class NotHolder(Conflict):
    slug = "not-holder"


class BatchQuarantined(Conflict):
    slug = "batch-recalled"


def is_quarantined(session: Session, certificate_id: Any) -> bool:
    """Whether an active hold (a recall) keeps the batch from moving on."""
    return (
        session.scalar(
            sa.select(Quarantine.id)
            .where(Quarantine.certificate_id == certificate_id, Quarantine.released_at.is_(None))
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True)
class EventSettings:
    """Rules that are data, from configuration: ranges per category, gap, test threshold."""

    ranges: dict[Category, Range]
    max_gap: timedelta
    inhibition_threshold: Decimal

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EventSettings:
        ranges = {
            Category(name): Range(_dec(lo), _dec(hi))
            for name, (lo, hi) in config["TEMPERATURE_RANGES"].items()
        }
        return cls(
            ranges,
            timedelta(minutes=config["TEMPERATURE_MAX_GAP_MINUTES"]),
            Decimal(str(config["ENZYME_INHIBITION_THRESHOLD"])),
        )


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class Lookups:
    """Facts no event changes, read at once for many events (a chunk of a batch): the
    certificates of their trace codes with whether each is quarantined, the organisations they
    name that exist, and the name of the recorder's organisation. A code or organisation not
    found here is read per event, as without it."""

    certificates: dict[str, tuple[Certificate, bool]]
    orgs: set[Any]
    org_name: str | None

    @classmethod
    def read(cls, session: Session, actor: Actor, codes: set[str], org_ids: set[Any]) -> Lookups:
        """Read them in three statements (two when nothing names an organisation)."""
        rows = session.execute(_BATCHES, {"codes": sorted(codes), "actor_org": actor.org_id}).all()
        certificates = {c.trace_code: (c, bool(quarantined)) for c, quarantined, _name in rows}
        name = rows[0][2] if rows else session.scalar(_ACTOR_ORG_NAME_ONLY, {"actor_org": actor.org_id})
        known = set(session.scalars(_ORGS_EXIST, {"ids": list(org_ids)})) if org_ids else set()
        return cls(certificates, known, name)


@dataclass
class Recording:
    """An event being recorded: what the handlers read and fill in."""

    session: Session
    actor: Actor
    data: dict[str, Any]
    settings: EventSettings
    event: Event
    ledger: Ledger
    items: list[EventItem] = field(default_factory=list)
    readings: list[TemperatureReading] = field(default_factory=list)
    outputs: list[Certificate] = field(default_factory=list)
    #: Writes that name the event row, run once it is inserted (a redeemed hand-over code).
    after_persist: list[Callable[[Event], None]] = field(default_factory=list)

    #: The certificates read so far (for the answer's trace codes), and whether each is held by
    #: an active quarantine, as read with it.
    certificates: dict[Any, Certificate] = field(default_factory=dict)
    quarantined: dict[Any, bool] = field(default_factory=dict)
    #: Organisations named in the body known to exist (read with the first certificate).
    known_orgs: set[Any] = field(default_factory=set)
    #: The name of the actor's organisation, when read with a certificate (for the answer).
    org_name: str | None = None
    #: Shipped quantities of the pending shipments read (shipment id → quantity).
    shipped: dict[Any, Decimal] = field(default_factory=dict)
    #: What a batch read at once for all its events (None: read per event).
    lookups: Lookups | None = None

    def batch(self, code: str | None = None, *, field_name: str = "/trace_code") -> Certificate:
        """The certificate of a trace code in the body, read with whether it is quarantined and
        whether the organisations the body names exist (one statement). Raises InvalidInput
        naming the field."""
        given = code or self.data.get("trace_code") or ""
        normalized = normalize_trace_code(given)
        if normalized is None and given:  # a case label's GS1-128 or a Digital Link: GTIN + lot
            found = find_by_code(self.session, given)
            if found is None:
                problem = scan_reason(scan_problem(self.session, given))
                raise InvalidInput(field_name, problem or _("No certificate has this trace code."))
            normalized = found.trace_code
        if self.lookups is not None and normalized in self.lookups.certificates:
            certificate, self.quarantined[certificate.id] = self.lookups.certificates[normalized]
            self.certificates[certificate.id] = certificate
            self.known_orgs |= self.lookups.orgs
            self.org_name = self.lookups.org_name
            return certificate
        named = {self.data[k] for k in NAMED_ORGS if self.data.get(k) is not None} - self.known_orgs
        row = None
        if normalized is not None:
            params = {"code": normalized, "actor_org": self.actor.org_id, "orgs": list(named)}
            row = self.session.execute(_BATCH_AND_ORGS if named else _BATCH, params).first()
        if row is None:
            raise InvalidInput(field_name, _("No certificate has this trace code."))
        certificate = row[0]
        self.certificates[certificate.id] = certificate
        self.quarantined[certificate.id] = bool(row[1])
        self.org_name = row[2]
        if named and row[3] == len(named):
            self.known_orgs |= named
        return certificate

    def quantity(
        self,
        certificate: Certificate,
        quantity: Decimal | None = None,
        unit: Any = None,
        *,
        field_name: str = "/unit",
    ) -> Decimal:
        """The body's quantity in the batch's own unit. Raises InvalidInput if it can't convert."""
        value = rules.to_batch_unit(
            quantity or self.data["quantity"], unit or self.data["unit"], certificate.unit
        )
        if value is None:
            raise InvalidInput(field_name, _("This batch is counted in another unit."))
        return value

    def org_id(self, key: str) -> Any:
        """The id of an organisation named in the body. Raises InvalidInput for an unknown one."""
        org_id = self.data[key]
        if self.lookups is not None and org_id in self.lookups.orgs:
            return org_id
        if org_id not in self.known_orgs:
            if self.session.scalar(_ORG_EXISTS, {"id": org_id}) is None:
                raise InvalidInput(f"/{key}", _("No such organisation."))
            self.known_orgs.add(org_id)
        return org_id

    def add_item(self, certificate: Certificate, role: ItemRole, quantity: Decimal | None) -> None:
        self.items.append(
            EventItem(
                position=len(self.items),
                certificate_id=certificate.id,
                role=role,
                quantity=quantity,
                unit=certificate.unit if quantity is not None else None,
            )
        )

    def require_holder(self, certificate: Certificate) -> Decimal:
        """How much the actor holds on hand. Raises NotHolder when nothing."""
        have = held(self.session, certificate.id, self.actor.org_id)
        if have <= 0:
            raise NotHolder(_("Your organisation does not hold this batch."))
        return have

    def take_held(self, certificate: Certificate, amount: Decimal) -> None:
        """Take ``amount`` from the actor's stock (``require_holder`` then take, in one
        statement when it is there). Raises NotHolder when it holds none, QuantityExceeded when
        it holds less."""
        try:
            self.ledger.take(certificate.id, self.actor.org_id, amount)
        except QuantityExceeded:
            self.require_holder(certificate)
            raise

    def is_quarantined(self, certificate: Certificate) -> bool:
        """Whether an active hold keeps the batch from moving on (as read with it, if it was)."""
        quarantined = self.quarantined.get(certificate.id)
        if quarantined is None:
            quarantined = self.quarantined[certificate.id] = is_quarantined(self.session, certificate.id)
        return quarantined

    def refuse_revoked(self, certificate: Certificate) -> None:
        """Refuse to move on a revoked or quarantined (recalled) batch. Raises Conflict."""
        if certificate.is_revoked:
            raise CertificateRevoked(_("This certificate is revoked; the batch cannot move on."))
        if self.is_quarantined(certificate):
            raise BatchQuarantined(_("This batch is recalled; it cannot move on."))


#: Fields of the body that name an organisation.
NAMED_ORGS = ("to_org", "carrier_org", "from_org")
_QUARANTINED = (
    sa.exists()
    .where(Quarantine.certificate_id == Certificate.id, Quarantine.released_at.is_(None))
    .label("quarantined")
)
_ACTOR_ORG_NAME = (
    sa.select(Organisation.name).where(Organisation.id == sa.bindparam("actor_org")).scalar_subquery()
)
# One statement per event for what its rules read first: the batch, its hold, who records it,
# and whether the organisations the body names exist.
_BATCH = sa.select(Certificate, _QUARANTINED, _ACTOR_ORG_NAME).where(
    Certificate.trace_code == sa.bindparam("code")
)
_BATCH_AND_ORGS = sa.select(
    Certificate,
    _QUARANTINED,
    _ACTOR_ORG_NAME,
    sa.select(sa.func.count(Organisation.id))
    .where(Organisation.id.in_(sa.bindparam("orgs", expanding=True)))
    .scalar_subquery(),
).where(Certificate.trace_code == sa.bindparam("code"))
_ORG_EXISTS = sa.select(Organisation.id).where(Organisation.id == sa.bindparam("id"))
_BATCHES = sa.select(Certificate, _QUARANTINED, _ACTOR_ORG_NAME).where(
    Certificate.trace_code.in_(sa.bindparam("codes", expanding=True))
)
_ACTOR_ORG_NAME_ONLY = sa.select(Organisation.name).where(Organisation.id == sa.bindparam("actor_org"))
_ORGS_EXIST = sa.select(Organisation.id).where(Organisation.id.in_(sa.bindparam("ids", expanding=True)))
