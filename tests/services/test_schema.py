"""The schema is built by the migrations alone, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import traceapp.models  # noqa: F401  (all tables on the metadata)
from traceapp.db import Base


def test_migrations_and_models_do_not_differ(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, Base.metadata)
    assert differences == [], differences
