"""A logger file upload, size-checked and read in the organisation's time zone."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import FileStorage

from traceapp.coldchain.loggers import parse_logger_csv
from traceapp.coldchain.verdicts import Reading
from traceapp.errors import PayloadTooLarge


def parse_upload(upload: FileStorage, config: Any, *, zone: str | None = None) -> tuple[str, list[Reading]]:
    """Read an uploaded logger file, times without an offset in ``zone`` (the organisation's;
    else the configured default). Raises LoggerFileError (and PayloadTooLarge when too big)."""
    data = upload.read(config["LOGGER_FILE_MAX_BYTES"] + 1)
    if len(data) > config["LOGGER_FILE_MAX_BYTES"]:
        raise PayloadTooLarge()
    return parse_logger_csv(data, default_tz=ZoneInfo(zone or config["BABEL_DEFAULT_TIMEZONE"]))
