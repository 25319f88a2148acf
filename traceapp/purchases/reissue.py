"""Re-issuing from purchase lines: a transformation's inputs may be lines of the buyer's own
purchases, whatever certificate was collected with them (ours, another system's, paper).

Imported by ``events.processing`` (it reads only purchase models and the recording), so the
purchases' services may use the events service without a cycle.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from traceapp.certificates.models import Certificate
from traceapp.certificates.texts import quantity_text
from traceapp.errors import InvalidInput
from traceapp.events import rules
from traceapp.events.holdings import QuantityExceeded
from traceapp.events.models import ItemRole
from traceapp.events.recording import Recording
from traceapp.purchases.models import CollectedKind, Purchase, PurchaseLine, ReissueSource
from traceapp.purchases.rules import producers


def consume_line(rec: Recording, field: str, wanted: dict[str, Any], position: int) -> uuid.UUID:
    """Take ``wanted``'s quantity from a line of the actor's purchases for a re-issue; for one of
    our certificates the batch is an input item too (and, when the purchase received it, taken
    from the buyer's stock). Raises InvalidInput naming the field and QuantityExceeded (409)."""
    line = _own_line(rec, wanted["purchase_line"], f"{field}/purchase_line")
    amount = rules.to_batch_unit(wanted["quantity"], wanted["unit"], line.unit)
    if amount is None:
        raise InvalidInput(f"{field}/unit", _("This purchase line is counted in another unit."))
    taken = rec.session.execute(
        sa.update(PurchaseLine)
        .where(PurchaseLine.id == line.id, PurchaseLine.remaining >= amount)
        .values(remaining=PurchaseLine.remaining - amount)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        rec.session.refresh(line)
        raise QuantityExceeded(
            _(
                "Only %(have)s of this purchase is left; %(want)s cannot be re-issued.",
                have=quantity_text(line.remaining, line.unit),
                want=quantity_text(amount, line.unit),
            )
        )
    if line.collected is CollectedKind.OURS and line.certificate_id is not None:
        _ours_as_input(rec, line, amount)
    _name_producer(rec, line)
    source = ReissueSource(position=position, line_id=line.id, quantity=amount)
    rec.after_persist.append(lambda event: _link(rec, event.id, source))
    return line.id


def _name_producer(rec: Recording, line: PurchaseLine) -> None:
    """Keep the producer and origin of the collected certificate on the re-issue (its public
    page names them without reading purchases: no phone, no photo)."""
    if line.collected is CollectedKind.NONE:
        return
    named = [tuple(pair) for pair in rec.event.details.get("collected_from", [])]
    found = producers([*named, (line.producer_name, line.origin)])
    rec.event.details = {**rec.event.details, "collected_from": [list(pair) for pair in found]}


def _own_line(rec: Recording, line_id: uuid.UUID, field: str) -> PurchaseLine:
    line = rec.session.scalar(
        sa.select(PurchaseLine)
        .join(Purchase, Purchase.id == PurchaseLine.purchase_id)
        .where(PurchaseLine.id == line_id, Purchase.org_id == rec.actor.org_id, Purchase.voided_at.is_(None))
    )
    if line is None:
        raise InvalidInput(field, _("No purchase line of your organisation has this id."))
    return line


def _ours_as_input(rec: Recording, line: PurchaseLine, amount: Decimal) -> None:
    certificate = rec.session.get_one(Certificate, line.certificate_id)
    rec.certificates[certificate.id] = certificate
    rec.refuse_revoked(certificate)  # revoked or recalled since it was collected: nothing made of it
    in_batch_unit = rules.to_batch_unit(amount, line.unit, certificate.unit)
    assert in_batch_unit is not None  # checked when the line was recorded
    if line.receiving_event_id is not None:
        rec.take_held(certificate, in_batch_unit)
    rec.add_item(certificate, ItemRole.INPUT, in_batch_unit)


def _link(rec: Recording, event_id: uuid.UUID, source: ReissueSource) -> None:
    source.event_id = event_id
    rec.session.add(source)
    rec.session.flush()
