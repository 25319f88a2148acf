"""GS1's EPCIS schema and context are not shipped: without them capture answers a clear 503
(nothing is stored unchecked), and ``traceapp epcis fetch-artefacts`` puts them in place after
checking each file (here from a server on 127.0.0.1 serving GS1's files, as ref.gs1.org does)."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.conformance.test_epcis_repository import EPCIS_DIR, EXAMPLES, capture
from traceapp.epcis.models import EpcisEvent
from traceapp.orgs.models import OrgKind

DOCUMENT = next(p for p in EXAMPLES if p.name == "Example_9.6.1-ObjectEvent.jsonld")


@pytest.fixture
def bare_folder(app, tmp_path):
    """The app with an empty artefacts folder, as a fresh deployment has."""
    app.config["EPCIS_ARTEFACTS_DIR"] = str(tmp_path / "epcis")
    app.extensions.pop("traceapp.epcis.artefacts", None)
    yield tmp_path / "epcis"
    app.extensions.pop("traceapp.epcis.artefacts", None)


def test_without_gs1s_files_capture_says_what_to_run_and_stores_nothing(client, make, dbsession, bare_folder):
    member = make.member(OrgKind.MARKET)
    answer = capture(client, member, json.loads(DOCUMENT.read_text("utf-8")), **{"Accept-Language": "en"})
    assert answer.status_code == 503, answer.json
    assert answer.json["type"] == "epcisException:ImplementationException"
    assert (
        "traceapp epcis fetch-artefacts" in answer.json["detail"]
        and "EPCIS-JSON-Schema.json" in answer.json["detail"]
    )
    chinese = capture(client, member, json.loads(DOCUMENT.read_text("utf-8")), **{"Accept-Language": "zh-CN"})
    assert chinese.status_code == 503 and "traceapp epcis fetch-artefacts" in chinese.json["detail"]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(EpcisEvent)) == 0


class _Published(SimpleHTTPRequestHandler):
    """GS1's file names on ref.gs1.org, served from the conformance folder; ``/bad/`` serves HTML."""

    def translate_path(self, path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/bad/"):
            return str(EPCIS_DIR / "SOURCES.md")
        return str(EPCIS_DIR / {"epcis-json-schema.json": "EPCIS-JSON-Schema.json"}.get(name, name))

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def published():
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Published, directory=str(EPCIS_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_artefacts_puts_gs1s_files_in_place_and_capture_then_works(
    app, client, make, bare_folder, published
):
    refused = app.test_cli_runner().invoke(args=["epcis", "fetch-artefacts", "--source", f"{published}/bad/"])
    assert refused.exit_code != 0 and "not JSON" in refused.output
    assert not any(bare_folder.glob("*.json*"))  # nothing half-written is left to be read
    done = app.test_cli_runner().invoke(args=["epcis", "fetch-artefacts", "--source", f"{published}/2.0.0/"])
    assert done.exit_code == 0, done.output
    for name in ("EPCIS-JSON-Schema.json", "epcis-context.jsonld"):
        assert (bare_folder / name).read_bytes() == (EPCIS_DIR / name).read_bytes()
    member = make.member(OrgKind.MARKET)
    answer = capture(client, member, json.loads(DOCUMENT.read_text("utf-8")))
    assert answer.status_code == 202, answer.json
