"""Glue between the certificate pages and the schemas: form values in, form values out.

Keeps the views short; no rules live here (the schemas and services hold them).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, render_template
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from traceapp import db, zones
from traceapp.auth import page_actor
from traceapp.certificates import documents, queries, services
from traceapp.certificates.models import Basis, Category, Certificate, Commitment, Unit
from traceapp.certificates.printing import LABEL_FILES, LabelFile
from traceapp.certificates.status import FACTS_READER, BatchStatus, batch_status
from traceapp.certificates.texts import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    COMMITMENT_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
)
from traceapp.errors import InvalidInput, NotFound
from traceapp.forms import form_payload
from traceapp.labels.layouts import LABEL_SIZES, SHEETS
from traceapp.orgs import operators
from traceapp.orgs.services import Actor
from traceapp.schemas import decimal_text
from traceapp.urls import public_base_url

LIST_FIELDS = frozenset({"commitments", "basis"})


def issue_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted issue form as a ``CertificateIn`` payload."""
    return form_payload(form, lists=LIST_FIELDS)


def plain_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """A simple posted form (no lists, no nesting) as a payload."""
    return form_payload(form)


def attach_upload(
    session: Session, actor: Actor, payload: dict[str, Any], upload: FileStorage | None
) -> None:
    """Store an uploaded report file and point the payload's test report at it."""
    if upload is None or not upload.filename:
        return
    report = services.store_test_report(
        session,
        actor,
        filename=upload.filename,
        content=upload.read(),
        max_bytes=current_app.config["REPORT_MAX_BYTES"],
    )
    payload.setdefault("test_report", {})["report_id"] = str(report.id)


def blank_values() -> dict[str, Any]:
    """An empty form: all three commitments ticked (they are required), harvested today in the
    organisation's time zone (in Hubei at 07:00 that is not yet UTC's today)."""
    return {
        "commitments": [c.value for c in Commitment],
        "basis": [],
        "unit": "kg",
        "harvest_date": zones.today().isoformat(),
        "event_id": str(uuid.uuid4()),
    }


def values_from(certificate: Certificate) -> dict[str, Any]:
    """A form filled in like ``certificate`` ("issue again"), for a new batch harvested today."""
    values = {
        "product_name": certificate.product_name,
        "category": certificate.category.value if certificate.category else "",
        "quantity": decimal_text(certificate.quantity),
        "unit": certificate.unit.value,
        "origin.region_code": certificate.origin_region_code,
        "origin.address": certificate.origin_address or "",
        "test_report.lab_name": certificate.lab_name or "",
        "test_report.report_number": certificate.report_number or "",
        "test_report.report_id": str(certificate.report_id or ""),
        "commitments": list(certificate.commitments),
        "basis": list(certificate.basis),
    }
    return {**blank_values(), **values}


def values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the user typed, to show again beside the error messages."""
    values: dict[str, Any] = {k: form.get(k, "") for k in form if k not in LIST_FIELDS}
    values.update({k: form.getlist(k) for k in LIST_FIELDS})
    return values


def render_issue(values: dict[str, Any], errors: dict[str, str], actor: Actor) -> str:
    """The issue form with values, errors and the organisation's product list."""
    return render_template(
        "certificates/new.html",
        values=values,
        errors=errors,
        products=queries.own_products(db.session(), actor),
        units=[(u.value, UNIT_LABELS[u]) for u in Unit],
        categories=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        commitments=[(c.value, COMMITMENT_LABELS[c]) for c in Commitment],
        bases=[(b.value, BASIS_LABELS[b]) for b in Basis],
    )


def render_show_with_errors(certificate_id: uuid.UUID, errors: dict[str, str]) -> str:
    """The certificate page (again, with the revoke form's errors); the revoke form only for
    whom may revoke it."""
    actor = page_actor()
    certificate = services.get_own_certificate(db.session(), actor, certificate_id)
    document = documents.certificate_document(certificate, base_url=public_base_url())
    return render_template(
        "certificates/show.html",
        c=certificate,
        doc=document,
        sizes=label_sizes(),
        sheets=sheet_names(),
        errors=errors,
        can_revoke=services.may_revoke(actor, certificate),
        status=batch_statuses(db.session(), [certificate])[certificate.id],
        labels=STATUS_LABELS,
        operator=operators.operator_of(db.session(), actor, certificate.org_id),
    )


def batch_statuses(session: Session, certificates: list[Certificate]) -> dict[uuid.UUID, BatchStatus]:
    """The status of each batch by the one rule (``status.batch_status``), its facts read for
    all of them at once (a bounded number of queries, however many rows)."""
    facts = current_app.extensions[FACTS_READER](session, certificates)
    return {c.id: batch_status(facts[c.id]) for c in certificates}


def label_sizes() -> list[tuple[str, str]]:
    return [(name, size.title_zh) for name, size in LABEL_SIZES.items() if name != "share"]


def sheet_names() -> list[str]:
    return list(SHEETS)


def find_label_file(name: str, ext: str) -> LabelFile:
    """``label`` + ``pdf`` → the label.pdf file. Raises NotFound for a combination we don't make."""
    try:
        return LABEL_FILES[f"{name}.{ext}"]
    except KeyError:
        raise NotFound() from None


def load_query(schema: type[Schema], args: MultiDict[str, str]) -> dict[str, Any]:
    """Load query arguments for a page. Raises InvalidInput naming the first bad field.

    Every page's language link is ``?lang=`` (read by ``traceapp.i18n``, which sets the cookie):
    it is no argument of the page's own unless the schema has that field (a label's language)."""
    loader, data = schema(), args.to_dict()
    if "lang" not in loader.fields:
        data.pop("lang", None)
    try:
        return loader.load(data)
    except ValidationError as exc:
        field, messages = next(iter(exc.normalized_messages().items()))
        raise InvalidInput(str(field), " ".join(map(str, messages))) from exc
