"""Committed databases for tests that cannot run inside the rolled-back test transaction
(live servers in another process, real concurrency): a temp SQLite file, or on PostgreSQL a
database of its own next to the test database, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from traceapp import migrate
from traceapp.db import make_engine
from traceapp.orgs.services import Actor

PASSWORD = "long-enough"


@dataclass(frozen=True)
class Parties:
    """A producer holding 100 kg of a batch and a market, both admins of their organisation."""

    producer: Actor
    market: Actor
    email: str  # the producer's, password PASSWORD
    token: str  # the producer's
    certificate: Any  # Certificate, 100 kg held by the producer


def producer_and_market(session: Any) -> Parties:
    """Create the ``Parties`` through the real services, in ``session``'s transaction."""
    from traceapp.certificates.models import Basis, Commitment, Unit
    from traceapp.certificates.services import issue_certificate
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role

    actors, emails = [], []
    for kind in (OrgKind.PRODUCER, OrgKind.MARKET):
        org = orgs.create_organisation(session, kind=kind, name=kind.value, region_code="420116")
        emails.append(f"{uuid.uuid4().hex}@x.cn")
        user = orgs.create_user(session, org_id=org.id, email=emails[-1], password=PASSWORD, role=Role.ADMIN)
        actors.append(Actor.of(user))
    token = orgs.create_api_token(session, email=emails[0])[1]
    body = {
        "product_name": "白菜",
        "quantity": Decimal("100"),
        "unit": Unit.KG,
        "origin": {"region_code": "420116"},
        "commitments": list(Commitment),
        "basis": [Basis.SELF_TEST],
    }
    certificate, _ = issue_certificate(session, actors[0], data=body)
    return Parties(actors[0], actors[1], emails[0], token, certificate)


def postgres_url() -> sa.URL | None:
    """The PostgreSQL test URL, if the suite runs on PostgreSQL."""
    raw = os.environ.get("TRACEAPP_TEST_DATABASE_URL")
    if not raw:
        return None
    url = make_url(raw)
    return url if url.get_backend_name() == "postgresql" else None


@contextmanager
def committed_database(suffix: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database named after ``suffix``."""
    base = postgres_url()
    if base is None:
        url = f"sqlite:///{folder / f'{suffix}.sqlite3'}"
        _migrate(url)
        yield url
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{base.database or 'test'}_{suffix}{'_' + worker if worker else ''}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
