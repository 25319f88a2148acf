"""``/api/v1/pallets/{sscc}``: what is on a pallet, and its SSCC label (PNG, PDF); the public
page ``/p/{sscc}`` (the pallet label's QR) lists its cases with links to their pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask.views import MethodView
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp import auth, codes, db, zones
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor, login_required, page_actor
from traceapp.certificates import printing
from traceapp.certificates.forms import load_query
from traceapp.certificates.models import Unit
from traceapp.certificates.schemas import label_lang, receipt_copies, receipt_paper
from traceapp.certificates.texts import quantity_text
from traceapp.errors import NotFound
from traceapp.events import documents, pallets, queries, services
from traceapp.events.recording import EventSettings
from traceapp.events.schemas import EventOut
from traceapp.labels import case
from traceapp.labels.layouts import DPI_CHOICES
from traceapp.orgs.permissions import Action, allows
from traceapp.schemas import UUID, EventTime, Int, QuantityField, Str, StrictSchema, enum_out
from traceapp.throttle import RateLimited, throttle
from traceapp.urls import public_base_url

blp = ApiBlueprint(
    "pallets_api",
    __name__,
    url_prefix="/api/v1/pallets",
    description="Pallets (SSCC): the cases an aggregating event packed onto them, and their labels.",
)
bp = Blueprint("pallets", __name__)
BINARY = {"type": "string", "format": "binary"}

_ONE_OF = _l("Choose one of the listed values.")
#: Rows of contents a pallet label has room for beside its QR.
LABEL_ROWS = 2


def pallet_url(base_url: str, sscc: str) -> str:
    """The public page of a pallet, upper-cased for a QR's alphanumeric mode when the base URL
    has no path (as ``codes.qr_url``)."""
    base = base_url.rstrip("/")
    url = f"{base}/p/{sscc}"
    return url.upper() if base.count("/") == 2 else url


class PalletCaseOut(Schema):
    trace_code = fields.String()
    product_name = fields.String()
    gtin = fields.String(allow_none=True)
    quantity = QuantityField(allow_none=True)
    unit = enum_out(Unit)
    public_url = fields.String()


class PalletOut(Schema):
    """A pallet: its SSCC, EPC URI, who packed it when, and its cases."""

    sscc = fields.String()
    parent_id = fields.String(metadata={"description": "urn:epc:id:sscc:… (the EPCIS parentID)"})
    event_id = fields.UUID()
    org_id = fields.UUID()
    org_name = fields.String()
    packed_at = fields.AwareDateTime()
    public_url = fields.String()
    cases = fields.List(fields.Nested(PalletCaseOut))


class PalletLabelQuery(StrictSchema):
    dpi = Int(load_default=300, validate=validate.OneOf(DPI_CHOICES, error=_ONE_OF))
    copies = Int(load_default=1, validate=validate.Range(min=1, max=500, error=_l("Between 1 and 500.")))
    lang = label_lang()


class PalletReceiptQuery(StrictSchema):
    paper = receipt_paper()
    copies = receipt_copies()
    lang = label_lang()


#: The pallet label's files: extension → (content type, query, saved by the browser).
LABEL_FORMATS: dict[str, tuple[str, type[Schema], bool]] = {
    "png": ("image/png", PalletLabelQuery, False),
    "pdf": ("application/pdf", PalletLabelQuery, False),
    "zpl": (printing.ZPL_TYPE, PalletLabelQuery, True),
    "tspl": (printing.PRINTER_JOB_TYPE, PalletLabelQuery, True),
    "escpos": (printing.PRINTER_JOB_TYPE, PalletReceiptQuery, True),
}


def _find(sscc: str) -> pallets.PalletView:
    view = pallets.find_pallet(db.session(), sscc) if pallets.is_valid_sscc(sscc) else None
    if view is None:
        raise NotFound(_("No pallet has this SSCC."))
    return view


def sees_contents(org_id: Any, view: pallets.PalletView, *, regulator: bool) -> bool:
    """Whether an organisation may read which batches (trace codes) a pallet carries: its packer,
    a regulator, or one that holds (or has on its way) a batch on it. SSCCs are the packer's
    prefix and a counter, so anyone could step through them: a stranger sees products and
    quantities only, never the codes, which stay unguessable."""
    if regulator or org_id == view.pallet.org_id:
        return True
    ids = [c.certificate.id for c in view.cases]
    return bool(ids) and queries.held_by_org(db.session(), ids, org_id)


def pallet_answer(view: pallets.PalletView, base_url: str) -> dict[str, Any]:
    return {
        "sscc": view.pallet.sscc,
        "parent_id": view.event.details.get("parent_id"),
        "event_id": view.event.client_event_id,
        "org_id": view.pallet.org_id,
        "org_name": view.org_name,
        "packed_at": view.event.occurred_at,
        "public_url": f"{base_url.rstrip('/')}/p/{view.pallet.sscc}",
        "cases": [
            {
                "trace_code": c.certificate.trace_code,
                "product_name": c.certificate.product_name,
                "gtin": c.certificate.gtin,
                "quantity": c.quantity,
                "unit": c.certificate.unit,
                "public_url": codes.code_url(base_url, c.certificate.trace_code),
            }
            for c in view.cases
        ],
    }


def pallet_label_content(view: pallets.PalletView, *, base_url: str, lang: str) -> case.CaseContent:
    """The SSCC label: (00) in the barcode, the packer, date and contents beside the QR."""
    sscc = view.pallet.sscc
    zone = zones.org_zone(db.session(), view.pallet.org_id)
    with force_locale({"zh": "zh_CN", "en": "en"}[lang]):
        rows = [
            (_("Packed by"), view.org_name),
            (_("Packed"), view.event.occurred_at.astimezone(ZoneInfo(zone)).date().isoformat()),
        ]
        shown = view.cases[:LABEL_ROWS]
        for c in shown:
            amount = quantity_text(c.quantity, c.certificate.unit) if c.quantity is not None else ""
            rows.append(("", f"{c.certificate.product_name} {amount} · {c.certificate.trace_code}"))
        if len(view.cases) > len(shown):
            rows.append(("", _("and %(count)d more batches", count=len(view.cases) - len(shown))))
        spaced = " ".join((sscc[0], sscc[1:17], sscc[17]))
        return case.CaseContent(
            title=_("Pallet SSCC %(sscc)s", sscc=spaced),
            elements=(("00", sscc),),
            lines=tuple(rows),
            qr_payload=pallet_url(base_url, sscc),
        )


@blp.route("/<sscc>")
class PalletResource(MethodView):
    @blp.response(200, PalletOut)
    def get(self, sscc: str) -> dict[str, Any]:
        """What is on a pallet: its cases (batch, quantity), who packed it and when."""
        actor = api_actor()
        view = _find(sscc)
        if not sees_contents(actor.org_id, view, regulator=allows(actor, Action.TRACE_FULL)):
            raise NotFound(_("No pallet has this SSCC."))
        return pallet_answer(view, public_base_url())


def label_response(org_id: Any, sscc: str, ext: str, args: dict[str, Any]) -> Response:
    """The pallet's label file for its own organisation (another gets NotFound)."""
    view = _find(sscc)
    if view.pallet.org_id != org_id:
        raise NotFound(_("No pallet has this SSCC."))
    content = pallet_label_content(view, base_url=public_base_url(), lang=args["lang"])
    body = printing.render_case(content, ext, args)
    mimetype, _query, saved = LABEL_FORMATS[ext]
    stem = f"{sscc}-label" + (f"-{args['dpi']}dpi" if "dpi" in args and ext != "pdf" else "")
    stem += f"-{args['paper']}mm" if "paper" in args else ""
    disposition = "attachment" if saved else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{stem}.{ext}"',
        "Cache-Control": "private, no-store",
    }
    return Response(body, content_type=mimetype, headers=headers)


def _label_view(ext: str) -> type[MethodView]:
    def get(self: MethodView, args: dict[str, Any], sscc: str) -> Response:
        return label_response(api_actor().org_id, sscc, ext, args)

    mimetype, query, _saved = LABEL_FORMATS[ext]
    printer = {"zpl": " (ZPL II, ^GF bitmap)", "tspl": " (TSPL, BITMAP)", "escpos": " (ESC/POS, GS v 0)"}
    get.__doc__ = (
        f"The pallet's SSCC label (100x50 mm) as {ext.upper()}{printer.get(ext, '')}: (00) in "
        "GS1-128, its contents, the QR."
    )
    view = blp.response(200, BINARY, content_type=mimetype.split(";")[0])(get)
    view = blp.arguments(query, location="query")(view)
    return type(f"PalletLabel{ext.capitalize()}", (MethodView,), {"get": view})


for _ext in LABEL_FORMATS:
    blp.route(f"/<sscc>/label.{_ext}")(_label_view(_ext))


@bp.before_request
def _count_like_the_public_page() -> None:
    """The public pallet page is throttled as the certificate's page is (per address)."""
    if request.path[:3] in ("/p/", "/P/"):
        wait = throttle().hit_public(request.environ)
        if wait is not None:
            raise RateLimited(retry_after=wait)


@bp.get("/p/<sscc>")
def pallet_page(sscc: str) -> tuple[str, int] | str:
    """The public page of a pallet (its label's QR): its cases, each a link to its page; for a
    signed-in member of the organisation that packed it, the links to its label."""
    view = pallets.find_pallet(db.session(), sscc) if pallets.is_valid_sscc(sscc) else None
    if view is None:
        return render_template("public/pallet.html", pallet=None, sscc=sscc), 404
    user = auth.page_user()
    own = user is not None and user.org_id == view.pallet.org_id
    codes_shown = user is not None and sees_contents(
        user.org_id, view, regulator=allows(page_actor(), Action.TRACE_FULL)
    )
    return render_template(
        "public/pallet.html",
        pallet=pallet_answer(view, public_base_url()),
        sscc=sscc,
        own=own,
        codes_shown=codes_shown,
    )


@bp.get("/pallets/<sscc>/label.<ext>")
@login_required
def pallet_label(sscc: str, ext: str) -> Response:
    """The pallet's label for its organisation's signed-in members (PDF, PNG, ZPL, TSPL, ESC/POS)."""
    if ext not in LABEL_FORMATS:
        raise NotFound()
    return label_response(page_actor().org_id, sscc, ext, load_query(LABEL_FORMATS[ext][1], request.args))


bp.add_url_rule("/P/<sscc>", endpoint="pallet_qr", view_func=pallet_page)


class PalletShipIn(StrictSchema):
    """A pallet shipped as one: each batch on it is shipped in its quantity on the pallet."""

    event_id = UUID(required=True, metadata={"description": "Client-chosen id for safe retries."})
    occurred_at = EventTime(required=True)
    to_org = UUID(required=True)
    carrier_org = UUID(load_default=None)
    location = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))


class PalletShipOut(Schema):
    sscc = fields.String()
    events = fields.List(fields.Nested(EventOut))


@blp.route("/<sscc>/ship")
class PalletShip(MethodView):
    @blp.arguments(PalletShipIn)
    @blp.response(201, PalletShipOut)
    @blp.alt_response(200, schema=PalletShipOut, description="Replay of the same event_id and body.")
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any], sscc: str) -> tuple[dict[str, Any], int]:
        """Ship a pallet: one shipping event per batch on it (its quantity on the pallet), each
        naming the SSCC in its details, all in one transaction; retries with the same event_id
        are safe (each batch's event id is derived from it)."""
        actor = api_actor()
        settings = EventSettings.from_config(current_app.config)
        with db.transaction() as session:
            done, created = services.ship_pallet(
                session, actor, view=_find(sscc), data=data, settings=settings
            )
            answers = [
                documents.recorded_document(queries.recorded(session, r.event), base_url=public_base_url())
                for r in done
            ]
        return {"sscc": sscc, "events": answers}, 201 if created else 200
