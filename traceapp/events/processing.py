"""Processing: inputs consumed into new batches (split, merge, repack), and portions sold on.

Every output is a new certificate with its own trace code; the event links each output to all
its inputs with the quantities consumed (an EPCIS TransformationEvent). A buyer's inputs may be
lines of its purchases (``purchases.reissue``): the new certificate links to the certificates
collected with them, ours, another system's or paper.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from traceapp.certificates.services import issue_certificate, issue_portions
from traceapp.errors import InvalidInput
from traceapp.events.models import ItemRole
from traceapp.events.recording import Recording
from traceapp.events.rules import transformation_inputs
from traceapp.purchases.reissue import consume_line


def transform(rec: Recording) -> None:
    """Consume the inputs from the actor's stock and issue the outputs' certificates."""
    seen: set[Any] = set()
    for position, (field, wanted) in enumerate(transformation_inputs(rec.data)):
        if wanted.get("purchase_line") is not None:
            if wanted["purchase_line"] in seen:
                raise InvalidInput(f"{field}/purchase_line", _("Each input may appear once."))
            seen.add(consume_line(rec, field, wanted, position))
            continue
        certificate = rec.batch(wanted["trace_code"], field_name=f"{field}/trace_code")
        if certificate.trace_code in seen:
            raise InvalidInput(f"{field}/trace_code", _("Each input may appear once."))
        seen.add(certificate.trace_code)
        rec.refuse_revoked(certificate)
        amount = rec.quantity(certificate, wanted["quantity"], wanted["unit"], field_name=f"{field}/unit")
        rec.take_held(certificate, amount)
        rec.add_item(certificate, ItemRole.INPUT, amount)
    for body in rec.data["outputs"]:
        output, _created = issue_certificate(rec.session, rec.actor, data=body)
        rec.outputs.append(output)
        rec.add_item(output, ItemRole.OUTPUT, output.quantity)


def portion(rec: Recording) -> None:
    """A market stall splits a batch it holds into portions, each with its own linked code."""
    source = rec.batch()
    rec.refuse_revoked(source)
    amounts = [
        rec.quantity(source, p["quantity"], p["unit"], field_name=f"/outputs/{i}/unit")
        for i, p in enumerate(rec.data["outputs"])
    ]
    rec.take_held(source, sum(amounts))
    rec.add_item(source, ItemRole.INPUT, sum(amounts))
    for piece in issue_portions(rec.session, rec.actor, source=source, quantities=amounts):
        rec.outputs.append(piece)
        rec.add_item(piece, ItemRole.OUTPUT, piece.quantity)
