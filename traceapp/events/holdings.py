"""Holdings change only here: conditional UPDATEs that can never go below zero, plus a ledger.

``UPDATE holdings SET quantity = quantity - :q WHERE ... AND quantity >= :q`` is atomic on
PostgreSQL (the row lock makes a concurrent second UPDATE re-check its WHERE) and on SQLite
(one writer at a time), so two instances can never ship the same kilogram twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate, Holding, HoldingState
from traceapp.certificates.texts import quantity_text
from traceapp.errors import Conflict
from traceapp.events.models import HoldingChange


class QuantityExceeded(Conflict):
    """More than is held would be taken."""

    slug = "quantity-exceeded"


def held(
    session: Session, certificate_id: uuid.UUID, org_id: uuid.UUID, state: HoldingState = HoldingState.ON_HAND
) -> Decimal:
    """How much of a batch an organisation holds in a state (0 when none)."""
    quantity = session.scalar(
        sa.select(Holding.quantity).where(
            Holding.certificate_id == certificate_id, Holding.org_id == org_id, Holding.state == state
        )
    )
    return quantity if quantity is not None else Decimal(0)


@dataclass
class Ledger:
    """The holding changes of one event, applied as they are made and recorded together."""

    session: Session
    changes: list[tuple[uuid.UUID, uuid.UUID, HoldingState, Decimal]] = field(default_factory=list)

    def take(
        self,
        certificate_id: uuid.UUID,
        org_id: uuid.UUID,
        amount: Decimal,
        state: HoldingState = HoldingState.ON_HAND,
    ) -> None:
        """Take ``amount`` from a holding. Raises QuantityExceeded if less is there."""
        result = self.session.execute(
            sa.update(Holding)
            .where(
                Holding.certificate_id == certificate_id,
                Holding.org_id == org_id,
                Holding.state == state,
                Holding.quantity >= amount,
            )
            .values(quantity=Holding.quantity - amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            have = held(self.session, certificate_id, org_id, state)
            # The batch is in the session already (every rule reads it first): no statement.
            unit = self.session.get_one(Certificate, certificate_id).unit
            raise QuantityExceeded(
                _(
                    "Only %(have)s is held; %(want)s cannot be taken.",
                    have=quantity_text(have, unit),
                    want=quantity_text(amount, unit),
                )
            )
        self.changes.append((certificate_id, org_id, state, -amount))

    def give(
        self,
        certificate_id: uuid.UUID,
        org_id: uuid.UUID,
        amount: Decimal,
        state: HoldingState = HoldingState.ON_HAND,
    ) -> None:
        """Add ``amount`` to a holding, creating it if needed."""
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(Holding).values(
            certificate_id=certificate_id, org_id=org_id, state=state, quantity=amount
        )
        statement = statement.on_conflict_do_update(
            index_elements=["certificate_id", "org_id", "state"],
            set_={"quantity": Holding.quantity + statement.excluded.quantity},
        )
        self.session.execute(statement)
        self.changes.append((certificate_id, org_id, state, amount))

    def record(self, event_id: uuid.UUID) -> None:
        """Write the ledger rows of ``event_id``."""
        for position, (certificate_id, org_id, state, delta) in enumerate(self.changes):
            self.session.add(
                HoldingChange(
                    event_id=event_id,
                    position=position,
                    certificate_id=certificate_id,
                    org_id=org_id,
                    state=state,
                    delta=delta,
                )
            )
