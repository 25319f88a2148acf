"""The EPCIS REST binding's problems: our DomainErrors, each with the binding's exception type.

Under ``/epcis`` a problem's ``type`` is the binding's (``epcisException:ValidationException``),
and it keeps our ``errors`` list naming the field or parameter at fault (``epcis_type_of``
answers the type of any error, ours or an HTTP one, by its status).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from traceapp.errors import DomainError, FieldError

_BY_STATUS = {
    400: "epcisException:ValidationException",
    401: "epcisException:SecurityException",
    403: "epcisException:SecurityException",
    404: "epcisException:NoSuchNameException",
    405: "epcisException:ImplementationException",
    406: "epcisException:NotAcceptableException",
    409: "epcisException:ResourceAlreadyExistsException",
    413: "epcisException:CaptureLimitExceededException",
    414: "epcisException:URITooLongException",
    415: "epcisException:UnsupportedMediaTypeException",
    422: "epcisException:ValidationException",
}


class EpcisProblem(DomainError):
    """Base: ``epcis_type`` is the binding's exception type."""

    epcis_type = "epcisException:ImplementationException"

    def __init__(self, detail: str | None = None, *, field: str | None = None):
        super().__init__(detail, errors=[FieldError(field, detail or str(self.title))] if field else None)


class ValidationProblem(EpcisProblem):
    status = 400
    slug = "epcis-validation"
    title = _l("Invalid EPCIS document")
    epcis_type = "epcisException:ValidationException"


class ArtefactsMissing(EpcisProblem):
    """GS1's schema or context is not in ``EPCIS_ARTEFACTS_DIR``: nothing can be checked, so
    nothing is captured."""

    status = 503
    slug = "epcis-artefacts-missing"
    title = _l("EPCIS capture is not set up")
    epcis_type = "epcisException:ImplementationException"


class QueryParameterProblem(EpcisProblem):
    status = 400
    slug = "epcis-query-parameter"
    title = _l("Invalid query parameter")
    epcis_type = "epcisException:QueryParameterException"


class CaptureLimitExceeded(EpcisProblem):
    status = 413
    slug = "epcis-capture-limit"
    title = _l("Capture too large")
    epcis_type = "epcisException:CaptureLimitExceededException"


class QueryTooLarge(EpcisProblem):
    status = 413
    slug = "epcis-query-too-large"
    title = _l("Query too large")
    epcis_type = "epcisException:QueryTooLargeException"


class NoSuchCapture(EpcisProblem):
    status = 404
    slug = "epcis-no-such-capture"
    title = _l("No such capture job")
    epcis_type = "epcisException:NoSuchNameException"


class NoSuchEvent(EpcisProblem):
    status = 404
    slug = "epcis-no-such-event"
    title = _l("No such event")
    epcis_type = "epcisException:NoSuchNameException"


class EventIdReused(EpcisProblem):
    status = 409
    slug = "epcis-event-id-reused"
    title = _l("EventID already used")
    epcis_type = "epcisException:ResourceAlreadyExistsException"


def epcis_type_of(exc: Exception, status: int) -> str:
    """The binding's exception type for an error answered with ``status``."""
    if isinstance(exc, EpcisProblem):
        return exc.epcis_type
    return _BY_STATUS.get(status, "epcisException:ImplementationException")
