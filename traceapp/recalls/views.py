"""Pages: trace a code, the recalls one is party to, a recall, and the regulator's overview."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from traceapp import db, zones
from traceapp.auth import login_required, page_actor
from traceapp.certificates.queries import find_by_code
from traceapp.errors import InvalidInput
from traceapp.forms import error_map, form_payload
from traceapp.orgs.permissions import Action, allows, require
from traceapp.recalls import documents, drawing, export, exports, queries, services, texts
from traceapp.recalls.export import XLSX
from traceapp.recalls.overview import overview
from traceapp.recalls.schemas import CloseIn, ExportJobIn, RecallIn
from traceapp.urls import public_base_url

bp = Blueprint("recalls", __name__)


@bp.get("/trace")
@login_required
def trace() -> str | tuple[str, int]:
    """Trace a code backward or forward, with the graph drawn."""
    code, direction = request.args.get("code", "").strip(), request.args.get("direction", "forward")
    certificate = find_by_code(db.session(), code) if code else None
    if code and certificate is None:
        return render_template(
            "recalls/trace.html",
            code=code,
            direction=direction,
            result=None,
            error=_("No certificate has this trace code."),
        ), 404
    result = (
        documents.trace_document(
            queries.trace(
                db.session(),
                page_actor(),
                certificate,
                direction="backward" if direction == "backward" else "forward",
            ),
            base_url=public_base_url(),
        )
        if certificate
        else None
    )
    graph = Markup(drawing.trace_svg(result)) if result else None
    return render_template(
        "recalls/trace.html",
        code=code,
        direction=direction,
        result=result,
        graph=graph,
        error=None,
        flows=list(texts.FLOW_LABELS.items()),
    )


@bp.get("/recalls")
@login_required
def index() -> str:
    """The recalls the organisation is party to (all of them for a regulator)."""
    actor = page_actor()
    session = db.session()
    rows = [
        documents.recall_document(queries.recall_detail(session, r))
        for r in queries.visible_recalls(session, actor)
    ]
    return render_template("recalls/index.html", rows=rows, can_open=_can_open())


@bp.route("/recalls/new", methods=["GET", "POST"])
@login_required
def new() -> BaseResponse | str | tuple[str, int]:
    """Open a recall on one or more codes."""
    if request.method == "GET":
        require(page_actor(), Action.RECALL)  # no form for an organisation that never recalls
        return render_template(
            "recalls/new.html",
            values={"trace_codes": request.args.get("code", "")},
            errors={},
            severities=texts.SEVERITY_LABELS,
        )
    payload = form_payload(request.form)
    payload["trace_codes"] = payload.get("trace_codes", "").split()
    try:
        with db.transaction() as session:
            recall = services.open_recall(session, page_actor(), data=RecallIn().load(payload))
    except ValidationError as exc:
        return _new_form(error_map(exc.messages))
    except InvalidInput as exc:
        return _new_form(error_map(errors=exc.errors))
    return redirect(url_for("recalls.show", recall_id=recall.id))


def _new_form(errors: dict[str, str]) -> tuple[str, int]:
    return render_template(
        "recalls/new.html", values=request.form, errors=errors, severities=texts.SEVERITY_LABELS
    ), 422


def _can_open() -> bool:
    return allows(page_actor(), Action.RECALL)


@bp.get("/recalls/<uuid:recall_id>")
@login_required
def show(recall_id: uuid.UUID) -> tuple[str, int]:
    """A recall: what it covers, who has acknowledged, what to do."""
    return _render_recall(recall_id, {})


def _render_recall(recall_id: uuid.UUID, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    actor = page_actor()
    recall = services.get_visible_recall(db.session(), actor, recall_id)
    document = documents.recall_document(queries.recall_detail(db.session(), recall))
    mine = next((p for p in document["parties"] if p["org_id"] == str(actor.org_id)), None)
    can_close = recall.status.value == "open" and services.may_close(actor, recall)
    return render_template(
        "recalls/show.html",
        recall=document,
        mine=mine,
        can_close=can_close,
        errors=errors,
        severities=texts.SEVERITY_LABELS,
        export_formats=texts.EXPORT_FORMATS,
        export_columns=list(texts.EXPORT_COLUMNS.items()),
        values=request.form,
    ), status


@bp.post("/recalls/<uuid:recall_id>/acknowledge")
@login_required
def acknowledge(recall_id: uuid.UUID) -> BaseResponse:
    """Acknowledge for the organisation."""
    with db.transaction() as session:
        services.acknowledge_recall(session, page_actor(), recall_id=recall_id)
    flash(_("Acknowledged."))
    return redirect(url_for("recalls.show", recall_id=recall_id))


@bp.post("/recalls/<uuid:recall_id>/close")
@login_required
def close(recall_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Close the recall with a note; its history stays."""
    try:
        with db.transaction() as session:
            data = CloseIn().load(form_payload(request.form))
            services.close_recall(session, page_actor(), recall_id=recall_id, note=data["note"])
    except ValidationError as exc:
        return _render_recall(recall_id, error_map(exc.messages), 422)
    flash(_("Recall closed."))
    return redirect(url_for("recalls.show", recall_id=recall_id))


@bp.get("/recalls/<uuid:recall_id>/export.<any(csv, xlsx):ext>")
@login_required
def download(recall_id: uuid.UUID, ext: str) -> Response:
    """The affected events as a spreadsheet (``?columns=zh`` for Chinese column names)."""
    limit = int(current_app.config["EXPORT_SYNC_MAX_ROWS"])
    recall = exports.recall_for_direct_export(db.session(), page_actor(), recall_id, limit=limit)
    columns = "zh" if request.args.get("columns") == "zh" else "en"
    headers = {"Content-Disposition": f'attachment; filename="{export.filename(recall.id, ext)}"'}
    if ext == "csv":
        return Response(
            "".join(export.to_csv(db.session(), recall.id, columns=columns, zone=zones.page_zone())),
            mimetype="text/csv",
            headers=headers,
        )
    body = export.to_xlsx(db.session(), recall.id, columns=columns, zone=zones.page_zone())
    return Response(body, mimetype=XLSX, headers=headers)


@bp.post("/recalls/<uuid:recall_id>/exports")
@login_required
def start_export(recall_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Start building an export as a job, then follow it on its page."""
    try:
        data = ExportJobIn().load(form_payload(request.form))
    except ValidationError as exc:
        return _render_recall(recall_id, error_map(exc.messages), 422)
    with db.transaction() as session:
        job = exports.start_export(
            session,
            page_actor(),
            recall_id=recall_id,
            fmt=data["format"],
            columns=data["columns"],
            max_attempts=int(current_app.config["JOBS_RETRIES"]) + 1,
        )
    return redirect(url_for("recalls.export_job", recall_id=recall_id, job_id=job.id))


@bp.get("/recalls/<uuid:recall_id>/exports/<uuid:job_id>")
@login_required
def export_job(recall_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """An export as it builds: a progress bar (the page reloads itself until it is done, no
    script needed), then its download link, or why it failed."""
    job = exports.get_export_job(db.session(), page_actor(), recall_id=recall_id, job_id=job_id)
    return render_template(
        "recalls/export.html",
        job=job,
        recall_id=recall_id,
        percent=exports.percent(job),
        busy=job.status.value in ("queued", "running"),
        format_label=dict(texts.EXPORT_FORMATS)[job.params["format"]],
        statuses=texts.JOB_STATUS_LABELS,
    )


@bp.get("/recalls/<uuid:recall_id>/exports/<uuid:job_id>/file")
@login_required
def export_file(recall_id: uuid.UUID, job_id: uuid.UUID) -> Response:
    """The file of a done export."""
    stored = exports.get_export_file(db.session(), page_actor(), recall_id=recall_id, job_id=job_id)
    headers = {"Content-Disposition": f'attachment; filename="{stored.filename}"'}
    return Response(stored.data, content_type=stored.content_type, headers=headers)


@bp.get("/overview")
@login_required
def regulator_overview() -> str:
    """Certificates, gate checks, failures, excursions and open recalls by region and week."""
    data = overview(db.session(), page_actor())
    charts = _charts(data)
    return render_template("recalls/overview.html", data=data, charts=charts)


def _charts(data: Any) -> dict[str, Markup]:
    def series(values: dict[str, int]) -> list[tuple[str, float]]:
        return [(week[-3:], float(values.get(week, 0))) for week in data.weeks]

    rates = [
        (
            week[-3:],
            round(100 * data.rejected.get(week, 0) / n, 1) if (n := data.inspections.get(week)) else 0.0,
        )
        for week in data.weeks
    ]
    return {
        "certificates": Markup(drawing.bar_chart(series(data.certificates), label=_("Certificates issued"))),
        "inspections": Markup(
            drawing.bar_chart(series(data.inspections), label=_("Gate checks"), color="#345")
        ),
        "failure": Markup(
            drawing.bar_chart(rates, label=_("Gate failure rate"), color="#b3261e", suffix="%")
        ),
        "excursions": Markup(
            drawing.bar_chart(series(data.excursions), label=_("Cold-chain excursions"), color="#8a5a00")
        ),
    }
