"""Public pages: ``/t/<code>`` (the consumer's page), its test report, and the code look-up form.

The hottest path we have: a stored page is one indexed look-up and its bytes as they are;
nothing is written and no login session is touched. A page not stored (yet) renders live.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from traceapp import codes, db
from traceapp.certificates import printing, queries
from traceapp.certificates.texts import scan_reason
from traceapp.events import pallets
from traceapp.i18n import current_lang
from traceapp.public.pages import answer, current_build, stored_page
from traceapp.public.queries import public_certificate
from traceapp.public.scans import scans
from traceapp.public.stored_wsgi import LOOKED_UP
from traceapp.urls import public_base_url
from traceapp.zones import in_zone

bp = Blueprint("public", __name__)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon, where a browser looks for it without a ``<link rel="icon">`` (the site's root)."""
    return send_from_directory(current_app.static_folder or "", "favicon.ico", max_age=7 * 24 * 3600)


@bp.get("/")
def home() -> str:
    """Landing page: what this is, and a box to type a code."""
    return render_template("public/home.html")


@bp.get("/t")
def lookup() -> BaseResponse | tuple[str, int]:
    """The typed-code form: go to the code's page, or say it is unknown."""
    typed = request.args.get("code", "")
    # A typed code, a scanned code URL, GS1 Digital Link or element string (GTIN + lot), or
    # a pallet's SSCC (00).
    sscc = codes.parse_scan(typed).sscc if typed.strip() else None
    if sscc is not None and pallets.find_pallet(db.session(), sscc) is not None:
        return redirect(url_for("pallets.pallet_page", sscc=sscc))
    certificate = queries.find_by_code(db.session(), typed) if typed.strip() else None
    page = public_certificate(db.session(), certificate.trace_code) if certificate else None
    if page is None:
        status = 404 if typed.strip() else 200
        problem = "unknown_sscc" if sscc else queries.scan_problem(db.session(), typed)
        return render_template(
            "public/not_found.html", typed=typed, mistake=problem, reason=scan_reason(problem)
        ), status
    return redirect(url_for("public.certificate", code=page.trace_code))


@bp.get("/t/<code>")
def certificate(code: str) -> Response | tuple[str, int]:
    """The consumer's page for a trace code (any case; spaces and dashes ignored)."""
    normal = codes.normalize_trace_code(code)
    lang = current_lang()
    missed = request.environ.get(LOOKED_UP, False)  # the front layer looked and found none
    # ``?font=cjk``: a device with no Chinese font of its own asked for the bundled one.
    web_font = request.args.get("font") == "cjk"
    stored = stored_page(normal, lang) if normal and not missed and not web_font else None
    if stored is not None:
        scans().note(request.environ, normal)
        status, headers, body = answer(
            stored, lang, request.headers.get("If-None-Match", ""), request.headers.get("Accept-Encoding", "")
        )
        return Response(body, status=status, headers=headers)
    page = public_certificate(db.session(), normal) if normal else None
    if page is None:
        return render_template("public/not_found.html", typed=code, mistake=codes.typing_mistake(code)), 404
    scans().note(request.environ, page.trace_code)
    with in_zone(page.zone):
        response = Response(render_template("public/certificate.html", page=page, web_font=web_font))
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response


# QR codes carry the URL in upper case (QR alphanumeric mode makes the symbol smaller).
bp.add_url_rule("/T/<code>", endpoint="certificate_qr", view_func=certificate)


@bp.get("/t/<code>/share.png")
def share_image(code: str) -> Response | tuple[str, int]:
    """The certificate's share image, for anyone (the page's Open Graph image, shown when a link
    is pasted into a chat): the phone masked as on the page, cached for an hour."""
    certificate = queries.find_by_code(db.session(), code)
    if certificate is None:
        return render_template("public/not_found.html", typed=code, mistake=codes.typing_mistake(code)), 404
    lang = current_lang()
    etag = f'"{certificate.trace_code}.{int(certificate.is_revoked)}.{lang}.{current_build()}"'
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "Vary": "Accept-Language, Cookie",
        "Content-Disposition": f'inline; filename="{certificate.trace_code}-share.png"',
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    body = printing.public_share_png(certificate, base_url=public_base_url(), lang=lang)
    return Response(body, mimetype="image/png", headers=headers)


@bp.get("/t/<code>/report")
def report(code: str) -> Response | tuple[str, int]:
    """The lab report file of a certificate, shown inline."""
    certificate = queries.find_by_code(db.session(), code)
    stored = queries.report_of(db.session(), certificate) if certificate else None
    if stored is None:
        return render_template("public/not_found.html", typed=code, mistake=codes.typing_mistake(code)), 404
    return Response(
        stored.content,
        mimetype=stored.content_type,
        headers={
            "Content-Disposition": "inline",
            # The browser's own image and PDF viewers style themselves inline.
            "Content-Security-Policy": (
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
            ),
        },
    )
