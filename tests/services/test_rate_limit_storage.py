"""Where the counts live: instances sharing one storage count as one (the default SQLite file
on one machine, Redis across hosts); a failing storage lets requests through."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from traceapp import create_app
from traceapp.throttle import client_address, throttle
from traceapp.throttle.storage import SQLiteStorage


def _instance(storage_url: str):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "r",
            "DATABASE_URL": "sqlite://",
            "RATELIMIT_STORAGE_URL": storage_url,
        }
    )
    app.config["RATELIMIT_API"] = "3 per minute"
    return app


@pytest.fixture(params=["sqlite", "redis"])
def shared_storage(request, tmp_path, ratelimit_url):
    """A storage two instances share: the default SQLite file, or the suite's Redis."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    if not ratelimit_url.startswith("redis://"):
        pytest.skip("set TRACEAPP_TEST_JOBS_URL (or TRACEAPP_TEST_RATELIMIT_URL) to a redis:// URL")
    return ratelimit_url


def test_two_instances_on_one_storage_count_as_one(shared_storage):
    first, second = _instance(shared_storage), _instance(shared_storage)
    throttle(first).limiter.storage.reset()
    env = {"REMOTE_ADDR": "192.0.2.60"}
    answers = [
        app.test_client().get("/api/v1/certificates", environ_base=env).status_code
        for app in (first, second, first, second)
    ]
    assert answers == [401, 401, 401, 429]
    throttle(first).limiter.storage.reset()


def test_processes_on_one_machine_share_the_default_storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'procs.sqlite3'}"
    script = (
        "import sys; from traceapp.throttle.storage import SQLiteStorage\n"
        "s = SQLiteStorage(sys.argv[1])\n"
        "for _ in range(50): s.incr('k', 60)\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, url]) for _ in range(3)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    assert SQLiteStorage(url).get("k") == 150


def test_a_counter_starts_again_when_its_window_has_passed(tmp_path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") > time.time()
    time.sleep(1.05)
    assert storage.get("k") == 0 and storage.incr("k", 1) == 1
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:/x"])
def test_a_sqlite_storage_url_must_name_a_file(url):
    with pytest.raises(ValueError, match="names a file"):
        SQLiteStorage(url)


def test_a_failing_storage_lets_requests_through(tmp_path, make, app, connection):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage's folder should be")
    broken = create_app({**app.config, "RATELIMIT_STORAGE_URL": f"sqlite:///{blocked / 'limits.sqlite3'}"})
    broken.extensions["traceapp.db"].sessions.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    client = broken.test_client()
    certificate = make.certificate(make.member())
    assert client.get(f"/t/{certificate.trace_code}").status_code == 200
    assert client.get("/api/v1/certificates").status_code == 401
    assert client.get(f"/t?code={certificate.trace_code}").status_code == 302
    assert client.post("/login", data={"login": "a@example.cn", "password": "wrong-guess"}).status_code == 401


@pytest.mark.parametrize(
    ("environ", "proxies", "key"),
    [
        ({"REMOTE_ADDR": "192.0.2.1"}, 0, "192.0.2.1"),
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "198.51.100.9"}, 0, "192.0.2.1"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.9"}, 1, "198.51.100.9"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.9, 10.0.0.2"}, 2, "198.51.100.9"),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, 0, "2001:db8:1:2::/64"),
        ({"REMOTE_ADDR": "::ffff:192.0.2.7"}, 0, "192.0.2.7"),
        ({}, 0, "unknown"),
    ],
)
def test_the_client_address_key(environ, proxies, key):
    assert client_address(environ, proxies) == key
