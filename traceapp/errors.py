"""Domain errors and the app-wide handlers that turn them into problem+json or HTML pages.

Services raise ``DomainError`` subclasses; they never call ``abort()``. Under ``/api/`` every error
is ``application/problem+json`` (RFC 9457); elsewhere it is an HTML page in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from traceapp import limits

PROBLEM_TYPE_BASE = "https://traceapp.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: a JSON pointer (``/origin/region_code``) or form name, and why."""

    field: str
    message: str

    def __post_init__(self) -> None:
        # Fields are JSON pointers everywhere (``file`` → ``/file``, ``a.b`` → ``/a/b``).
        if not self.field.startswith("/"):
            object.__setattr__(self, "field", "/" + self.field.replace(".", "/"))


class DomainError(Exception):
    """Base of every rule violation a service reports."""

    status = 400
    slug = "bad-request"
    title: Any = _l("Bad request")

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None):
        super().__init__(detail or str(self.title))
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    """Input that fails a rule; names the field(s)."""

    status = 422
    slug = "invalid-input"
    title = _l("Invalid input")

    def __init__(self, field: str, message: str):
        super().__init__(message, errors=[FieldError(field, message)])


class NotAuthenticated(DomainError):
    status = 401
    slug = "not-authenticated"
    title = _l("Sign-in required")


class PermissionDenied(DomainError):
    status = 403
    slug = "forbidden"
    title = _l("Not allowed")


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = _l("Not found")


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = _l("Conflict")


class PayloadTooLarge(DomainError):
    status = 413
    slug = "too-large"
    title = _l("Too large")


class MalformedBody(DomainError):
    """A body that is not JSON we read: broken, nested too deep, numbers JSON has no room for."""

    status = 400
    slug = "malformed-body"
    title = _l("Bad request")

    def __init__(self, message: str, field: str = "/"):
        super().__init__(message, errors=[FieldError(field, message)])


class UnsupportedMediaType(DomainError):
    """A body of a type the endpoint does not take (``text/plain`` where JSON is expected)."""

    status = 415
    slug = "unsupported-media-type"
    title = _l("Unsupported media type")

    def __init__(self, message: str):
        super().__init__(message, errors=[FieldError("/", message)])


def problem(
    status: int, title: str, detail: str | None, *, slug: str, errors: list[FieldError] | None = None
) -> Response:
    """Build an ``application/problem+json`` response."""
    response = jsonify(problem_body(status, title, detail, slug=slug, errors=errors))
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def problem_body(
    status: int, title: str, detail: str | None, *, slug: str, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    """The body of a problem+json answer (also one refused event of a batch)."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status}
    if errors and len(errors) > limits.LISTED_ERRORS:
        # A body with thousands of bad items must not get an answer thousands of entries long.
        listed = _(
            "The first %(listed)d of %(count)d problems are listed.",
            listed=limits.LISTED_ERRORS,
            count=len(errors),
        )
        detail = f"{detail} {listed}" if detail else listed
        errors = errors[: limits.LISTED_ERRORS]
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


def domain_problem(exc: DomainError) -> dict[str, Any]:
    """The problem+json body a DomainError is answered with under /api/."""
    return problem_body(exc.status, str(exc.title), exc.detail, slug=exc.slug, errors=exc.errors)


def validation_problem(messages: Any) -> dict[str, Any]:
    """The problem+json body of a body that failed its schema (marshmallow's messages), as
    the 422 of ``handle_http_exception`` gives it."""
    return problem_body(
        422,
        _http_title(422),
        _("Some fields are invalid."),
        slug="http-422",
        errors=flatten_messages(messages),
    )


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/epcis/")) or request.path == "/epcis"


def handle_domain_error(exc: DomainError) -> Response | tuple[str, int]:
    """Answer a DomainError as problem+json under /api/, else as an HTML error page."""
    if _wants_json():
        return problem(exc.status, str(exc.title), exc.detail, slug=exc.slug, errors=exc.errors)
    return _html_error(exc.status, str(exc.title), exc.detail)


def handle_http_exception(exc: HTTPException) -> Response:
    """Answer routing/HTTP errors (404, 405, 413, webargs' 422 ...) in the right format."""
    status = exc.code or 500
    if _wants_json():
        errors = _validation_errors(exc)
        detail = _("Some fields are invalid.") if errors else _http_detail(status)
        response = problem(status, _http_title(status), detail, slug=f"http-{status}", errors=errors)
    else:
        response = make_response(_html_error(status, _http_title(status), _http_detail(status)))
    # The exception's own headers say what the body cannot: a 405's ``Allow`` (RFC 9110
    # §15.5.6 requires it), a 401's ``WWW-Authenticate``, a 429's ``Retry-After``.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _validation_errors(exc: HTTPException) -> list[FieldError]:
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    errors: list[FieldError] = []
    for _location, fields in messages.items():
        errors.extend(flatten_messages(fields))
    return errors


def flatten_messages(messages: Any, prefix: str = "") -> list[FieldError]:
    """Turn marshmallow's nested error dict into a flat list of JSON-pointer field errors."""
    if isinstance(messages, dict):
        out: list[FieldError] = []
        for key, value in messages.items():
            name = "" if key == "_schema" else f"/{key}"
            out.extend(flatten_messages(value, prefix + name))
        return out
    if isinstance(messages, list) and not any(isinstance(m, (dict, list)) for m in messages):
        return [FieldError(prefix or "/", " ".join(str(m) for m in messages))]
    return [FieldError(prefix or "/", str(messages))]


def _http_title(status: int) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Sign-in required"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Too large"),
        415: _("Unsupported media type"),
        422: _("Invalid input"),
        429: _("Too many requests"),
        503: _("Service unavailable"),
    }
    return titles.get(status, _("Server error"))


def _http_detail(status: int) -> str:
    details = {
        400: _("The request could not be understood."),
        401: _("Sign in or send a valid API token."),
        403: _("You are not allowed to do this."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that method."),
        413: _("The upload is larger than allowed."),
        422: _("Some fields are invalid."),
        429: _("Too many requests; try again shortly."),
    }
    return details.get(status, _("Something went wrong on our side. Please try again."))


def _html_error(status: int, title: str, detail: str | None) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def handle_unexpected(exc: Exception) -> Response | tuple[str, int]:
    """Last resort for bugs: log, and answer 500 without leaking internals."""
    current_app.logger.exception("unhandled error", exc_info=exc)
    if _wants_json():
        return problem(500, _http_title(500), _http_detail(500), slug="http-500")
    return _html_error(500, _http_title(500), _http_detail(500))


#: Seconds a client is asked to wait before it tries again after a 503 (the database busy).
RETRY_AFTER_SECONDS = 1


def handle_database_error(exc: DBAPIError) -> Response | tuple[str, int, dict[str, str]]:
    """A database that is busy or briefly gone answers 503 with ``Retry-After``: the client
    tries again (safe with an event id). Any other database error is a bug."""
    if not database_unavailable(exc):
        if current_app.testing:
            raise exc
        return handle_unexpected(exc)  # type: ignore[return-value]
    current_app.logger.warning("database unavailable, answered 503: %s", exc.orig)
    title, detail = _http_title(503), _("The database is busy. Please try again in a moment.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_json():
        response = problem(503, title, detail, slug="database-busy")
        response.headers.update(headers)
        return response
    return (*_html_error(503, title, detail), headers)


def database_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error means "busy or briefly gone" rather than a bug: the write lock
    not had within the busy timeout (SQLite), a dropped connection, a deadlock, a serialisation
    failure or a lock timeout (PostgreSQL)."""
    if exc.connection_invalidated:
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if sqlstate.startswith(("08", "40")) or sqlstate in {"55P03", "57P01", "57P02", "57P03"}:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def init_app(app: Flask) -> None:
    """Register the handlers; call after the flask-smorest Api so ours replace its handler."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    if not app.testing:  # in tests a bug must surface as the exception itself
        app.register_error_handler(Exception, handle_unexpected)
