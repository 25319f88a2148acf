"""``traceapp epcis fetch-artefacts``: GS1's EPCIS 2.0 schema and context into
``EPCIS_ARTEFACTS_DIR``, from where GS1 publishes them for implementers (ref.gs1.org).

They are not shipped with traceapp (GS1 gives them no open-source licence), and capture needs
both: the schema checks each document, the context expands it. Each file is checked (JSON of
the right shape) before it replaces what was there.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

#: GS1's published 2.0.0 artefacts (https://ref.gs1.org/standards/epcis/2.0.0/artefacts) and
#: the names capture reads them under (those of GS1's repository).
SOURCE = "https://ref.gs1.org/standards/epcis/2.0.0/"
FILES = {"EPCIS-JSON-Schema.json": "epcis-json-schema.json", "epcis-context.jsonld": "epcis-context.jsonld"}
TIMEOUT = 30

epcis_cli = AppGroup("epcis", help="The EPCIS 2.0 repository (/epcis).")


def _checked(name: str, data: bytes) -> bytes:
    """``data`` if it is the artefact ``name`` should be; raises click.ClickException."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise click.ClickException(f"{name}: not JSON ({exc})") from None
    wanted = "@context" if name.endswith(".jsonld") else "definitions"
    if not isinstance(document, dict) or wanted not in document:
        raise click.ClickException(f"{name}: not GS1's file (no {wanted!r})")
    return data


@epcis_cli.command("fetch-artefacts")
@click.option("--source", default=SOURCE, show_default=True, help="Where GS1 publishes the files.")
@with_appcontext
def fetch_artefacts(source: str) -> None:
    """Download GS1's EPCIS schema and context into EPCIS_ARTEFACTS_DIR (capture needs both)."""
    folder = Path(current_app.config["EPCIS_ARTEFACTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for local, published in FILES.items():
        url = source.rstrip("/") + "/" + published
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 - an operator's URL
                data = _checked(local, answer.read())
        except OSError as exc:
            raise click.ClickException(f"{url}: {exc}") from None
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{local}.")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, folder / local)
        click.echo(f"{folder / local} ({len(data)} bytes, from {url})")


COMMANDS = (epcis_cli,)
