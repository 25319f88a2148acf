"""Fixtures for the scanner client: a real ``traceapp serve`` on 127.0.0.1 that a test may stop
and start again on the same port, a producer and a market seeded through traceapp's services,
certificates issued through the HTTP API, and ``trace-scan`` run as a subprocess.

The server has its own committed database (STYLE rule 26): a temporary SQLite file, or a
database ``<name>_scanner`` next to ``TRACEAPP_TEST_DATABASE_URL`` when that is PostgreSQL.
Test code may import traceapp; scanner_client never does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.committed import committed_database
from tests.factories import certificate_body
from tests.live import Server, free_port
from traceapp import create_app, db
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role

PUBLIC_BASE_URL = "https://trace.example.cn"


@dataclass(frozen=True)
class Member:
    """An organisation's user with an API token, committed in the server's database."""

    org_id: str
    org_name: str
    token: str


@dataclass(frozen=True)
class Parties:
    producer: Member
    market: Member


def _seed_member(session: Any, kind: OrgKind, name: str) -> Member:
    org = orgs.create_organisation(session, kind=kind, name=name, region_code="420116")
    email = f"scan-{uuid.uuid4().hex[:8]}@example.cn"
    orgs.create_user(session, org_id=org.id, email=email, password="correct-horse-9", role=Role.ADMIN)
    _token, plaintext = orgs.create_api_token(session, email=email)
    return Member(str(org.id), org.name, plaintext)


@pytest.fixture(scope="session")
def scanner_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A committed, migrated database for the scanner tests' server."""
    with committed_database("scanner", tmp_path_factory.mktemp("scanner-db")) as url:
        yield url


@pytest.fixture(scope="session")
def parties(scanner_database_url: str) -> Parties:
    """A producer cooperative and a wholesale market, each with a user and an API token."""
    app = create_app({"DATABASE_URL": scanner_database_url, "SECRET_KEY": "scanner"})
    suffix = uuid.uuid4().hex[:6]
    try:
        with app.test_request_context(), db.transaction() as session:
            producer = _seed_member(session, OrgKind.PRODUCER, f"木兰合作社-{suffix}")
            market = _seed_member(session, OrgKind.MARKET, f"白沙洲市场-{suffix}")
    finally:
        app.extensions["traceapp.db"].dispose()
    return Parties(producer, market)


@pytest.fixture(scope="session")
def server_process(
    scanner_database_url: str, parties: Parties, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The session's server (one gunicorn worker); stopped at the end."""
    log = tmp_path_factory.mktemp("scanner-server") / "server.log"
    server = Server(free_port(), scanner_database_url, log, "scanner-secret", PUBLIC_BASE_URL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def server(server_process: Server) -> Server:
    """The server, running at the start of the test (a test that stopped it gets it back)."""
    if not server_process.running:
        server_process.start()
    return server_process


# -- the HTTP API, for arranging and asserting -------------------------------------------------


def api(server: Server, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """One JSON request to the server: (status, parsed body or raw bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.url + path,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        with error:
            status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    return status, json.loads(raw) if "json" in kind else raw


@pytest.fixture()
def issue(server: Server, parties: Parties):  # type: ignore[no-untyped-def]
    """Issue a certificate as the producer: ``issue(quantity="500", revoked_because=None)``."""

    def issue_certificate(
        quantity: str = "500", product_name: str = "大白菜", revoked_because: str | None = None
    ) -> dict[str, Any]:
        status, document = api(
            server,
            "POST",
            "/api/v1/certificates",
            parties.producer.token,
            certificate_body(quantity=quantity, product_name=product_name),
        )
        assert status == 201, document
        if revoked_because:
            status, document = api(
                server,
                "POST",
                f"/api/v1/certificates/{document['id']}/revoke",
                parties.producer.token,
                {"reason": revoked_because},
            )
            assert status == 200, document
        return dict(document)

    return issue_certificate


def inspections(server: Server, parties: Parties, code: str) -> list[dict[str, Any]]:
    """The gate checks recorded for ``code``, as the market sees them."""
    status, document = api(server, "GET", f"/api/v1/codes/{code}", parties.market.token)
    assert status == 200, document
    return [event for event in document["events"] if event["kind"] == "inspecting"]


# -- trace-scan as a subprocess ----------------------------------------------------------------


@dataclass
class TraceScan:
    """Runs ``python -m scanner_client`` with its own home folder, against the server."""

    home: Path
    server: Server
    token: str
    gate: str = "东门"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE") and not key.startswith("TRACE_SCAN_")
        }
        env.update(
            {
                "TRACE_SCAN_HOME": str(self.home),
                "TRACE_SCAN_SERVER": self.server.url,
                "TRACE_SCAN_TOKEN": self.token,
                "TRACE_SCAN_GATE": self.gate,
                "LANG": "en_US.UTF-8",
                "PYTHONIOENCODING": "utf-8",
            }
        )
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "scanner_client", *args]

    def __call__(
        self, *args: str, stdin: str = "", timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env(**env),
            timeout=timeout,
            check=False,
        )

    def counts(self) -> dict[str, int]:
        """The outbox counts, read straight from its SQLite file (what ``status --json`` reads)."""
        path = self.home / "outbox.sqlite3"
        if not path.exists():
            return {"pending": 0, "sent": 0, "rejected": 0}
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
            rows = dict(connection.execute("SELECT state, count(*) FROM scans GROUP BY state").fetchall())
        connection.close()
        return {state: int(rows.get(state, 0)) for state in ("pending", "sent", "rejected")}

    def event_ids(self, state: str = "sent") -> list[str]:
        path = self.home / "outbox.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
            rows = connection.execute(
                "SELECT event_id FROM scans WHERE state = ? ORDER BY id", (state,)
            ).fetchall()
        connection.close()
        return [row[0] for row in rows]


@pytest.fixture()
def trace_scan(server: Server, parties: Parties, tmp_path: Path) -> TraceScan:
    """``trace-scan`` for the market's gate, with a fresh home folder."""
    return TraceScan(tmp_path / "trace-scan-home", server, parties.market.token)
