"""What people read about the cold chain: verdicts and logger-file errors (translated)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from traceapp.coldchain.loggers import LoggerFileError
from traceapp.coldchain.verdicts import Verdict

VERDICT_LABELS = {
    Verdict.NO_RANGE: _l("No temperature range applies"),
    Verdict.NO_DATA: _l("No temperatures recorded"),
    Verdict.IN_RANGE: _l("Kept within range"),
    Verdict.INCOMPLETE: _l("Within range, but readings are missing for a while"),
    Verdict.EXCURSION: _l("Temperature out of range"),
}

_LOGGER_MESSAGES = {
    "empty": _l("The file is empty."),
    "encoding": _l("The file is neither UTF-8 nor GB18030 text."),
    "plain_row": _l("Expected two values: timestamp,temperature."),
    "iso_time": _l("Not an ISO 8601 time: %(value)s"),
    "number": _l("Not a temperature: %(value)s"),
    "implausible": _l("Temperature outside any plausible range: %(value)s"),
    "no_header": _l("No header row with a time column and a temperature column."),
    "short_row": _l("The row has fewer columns than the header."),
    "local_time": _l("Not a date and time: %(value)s"),
    "no_readings": _l("The file holds no readings."),
    "too_many": _l("Too many readings in one file."),
}


def logger_error_message(error: LoggerFileError) -> str:
    """The error in the reader's language, with its line number."""
    message = str(_LOGGER_MESSAGES[error.code]) % {"value": error.value}
    return _("Line %(line)d: %(message)s", line=error.line, message=message) if error.line else message
