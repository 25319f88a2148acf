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
from traceapp.certificates.queries import find_by_code
from traceapp.coldchain.verdicts import Range
from traceapp.errors import Conflict, InvalidInput
from traceapp.events import rules
from traceapp.events.holdings import Ledger, held
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

    def batch(self, code: str | None = None, *, field_name: str = "/trace_code") -> Certificate:
        """The certificate of a trace code in the body. Raises InvalidInput naming the field."""
        certificate = find_by_code(self.session, code or self.data.get("trace_code") or "")
        if certificate is None:
            raise InvalidInput(field_name, _("No certificate has this trace code."))
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

    def org(self, key: str) -> Organisation:
        """An organisation named by id in the body. Raises InvalidInput for an unknown one."""
        org = self.session.get(Organisation, self.data[key])
        if org is None:
            raise InvalidInput(f"/{key}", _("No such organisation."))
        return org

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

    def refuse_revoked(self, certificate: Certificate) -> None:
        """Refuse to move on a revoked or quarantined (recalled) batch. Raises Conflict."""
        if certificate.is_revoked:
            raise CertificateRevoked(_("This certificate is revoked; the batch cannot move on."))
        if is_quarantined(self.session, certificate.id):
            raise BatchQuarantined(_("This batch is recalled; it cannot move on."))
