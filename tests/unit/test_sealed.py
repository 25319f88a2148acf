"""Secrets we must read back are sealed at rest, open with the current or a fallback key only,
and the migration seals what an older release stored in clear."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from traceapp import migrate, sealed
from traceapp.db import make_engine


def test_a_sealed_secret_opens_with_its_key_and_shows_nothing_of_itself():
    stored = sealed.seal(["key-one"], "s3cret-value")
    assert stored.startswith("fernet:") and "s3cret" not in stored
    assert sealed.unseal(["key-one"], stored) == "s3cret-value"
    assert sealed.seal(["key-one"], "s3cret-value") != stored  # a fresh IV every time


def test_a_rotated_key_still_opens_what_the_old_one_sealed_and_seals_with_the_new_one():
    old = sealed.seal(["key-one"], "s3cret-value")
    config = {"SECRET_KEY": "key-two", "SECRET_KEY_FALLBACKS": ["key-one"]}
    assert sealed.unseal(sealed.app_keys(config), old) == "s3cret-value"
    fresh = sealed.seal(sealed.app_keys(config), "s3cret-value")
    assert sealed.unseal(["key-two"], fresh) == "s3cret-value"
    with pytest.raises(sealed.Unsealable):
        sealed.unseal(["key-one"], fresh)


def test_a_dropped_key_or_a_value_stored_in_clear_is_unsealable_not_guessed():
    with pytest.raises(sealed.Unsealable, match="SECRET_KEY_FALLBACKS"):
        sealed.unseal(["key-two"], sealed.seal(["key-one"], "x"))
    with pytest.raises(sealed.Unsealable, match="not sealed"):
        sealed.unseal(["key-one"], "clear-secret")


def test_the_migration_seals_webhook_secrets_an_older_release_stored_in_clear(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'older.db'}")  # the app's: transactional DDL
    migrate.upgrade(engine, "0015")
    orgs = sa.Table("organisations", sa.MetaData(), autoload_with=engine)
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            orgs.insert().values(
                id=org_id.hex,
                kind="producer",
                name="木兰合作社",
                timezone="Asia/Shanghai",
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                webhook_url="https://hooks.example.cn/traceapp",
                webhook_secret="clear-secret-of-an-older-release",
            )
        )
    with pytest.raises(RuntimeError, match="traceapp db upgrade"):
        migrate.upgrade(engine)  # without the app's keys it stops rather than leave it in clear
    migrate.upgrade(engine, secret_keys=["the-app-key"])
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT webhook_secret FROM organisations"))
    assert "clear-secret" not in stored
    assert sealed.unseal(["the-app-key"], stored) == "clear-secret-of-an-older-release"
    engine.dispose()
