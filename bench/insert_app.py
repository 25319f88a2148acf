"""The bare baseline for bench/events.py: a Flask app that inserts one row per POST.

Served by exactly the same gunicorn command line as traceapp (``gunicorn insert_app:app`` from
this folder), on the same database (``TRACEAPP_DATABASE_URL``). ``POST /api/v1/events`` parses
the JSON body and inserts it as one row of ``bench_bare_events`` (which ``events.py`` creates)
in a transaction of its own, then answers 201 with the new id: the floor of a write that a
request to traceapp's events endpoint cannot go below (routing, JSON, one INSERT, one COMMIT).
No token is checked. The engine is made on first use, in the worker (never across a fork).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, request

app = Flask(__name__)
TABLE = sa.Table(
    "bench_bare_events",
    sa.MetaData(),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("event_id", sa.String(64)),
    sa.Column("kind", sa.String(40)),
    sa.Column("body", sa.JSON),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
)
_engine: list[sa.Engine] = []


def engine() -> sa.Engine:
    if not _engine:
        _engine.append(sa.create_engine(os.environ["TRACEAPP_DATABASE_URL"], pool_size=1))
    return _engine[0]


@app.get("/api/v1/openapi.json")
def ready() -> dict[str, Any]:
    return {"openapi": "3.0.3"}


@app.post("/api/v1/events")
def record() -> tuple[dict[str, Any], int]:
    body = request.get_json()
    row_id = uuid.uuid4()
    with engine().begin() as conn:
        conn.execute(
            TABLE.insert(),
            {
                "id": row_id,
                "event_id": body.get("event_id"),
                "kind": body.get("kind"),
                "body": body,
                "recorded_at": datetime.now(UTC),
            },
        )
    return {"id": str(row_id), "event_id": body.get("event_id")}, 201
