"""The job queue: handed to the broker only when the write commits, run once however many
workers race for it, retried with backoff and then kept as failed, never lost.

The tasks run through Huey's own API (``tests.jobs.run_queued``: dequeue, execute), on the
suite's broker: a SQLite file, or Redis with ``TRACEAPP_TEST_JOBS_URL``.
"""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.api.test_events_api import post
from tests.committed import committed_database
from tests.jobs import broker, names, run_queued
from traceapp import create_app, db, jobs
from traceapp.db import utcnow
from traceapp.jobs import services
from traceapp.jobs.models import Job, JobStatus
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind
from traceapp.public import pages
from traceapp.public.models import PublicPage

LEASE = timedelta(minutes=5)


@pytest.fixture()
def calls(app: Flask) -> list[dict[str, Any]]:
    """A job kind ``probe`` whose handler records each run and fails while told to."""
    runs: list[dict[str, Any]] = []

    def probe(params: dict[str, Any], progress: jobs.Progress) -> tuple[str, str, bytes]:
        runs.append(params)
        progress(1, 2, force=True)
        if len(runs) <= params.get("fail_times", 0):
            raise OSError(f"disk full on run {len(runs)}")
        return "probe.txt", "text/plain", b"done"

    app.extensions["traceapp.jobs"].handlers["probe"] = probe
    return runs


def _queue_probe(session: Any, org_id: uuid.UUID, **params: Any) -> Job:
    job = services.create_job(
        session, kind="probe", params=params, org_id=org_id, created_by_id=None, max_attempts=4
    )
    jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))
    return job


def _job(app: Flask, job_id: uuid.UUID) -> Job:
    with app.app_context():
        session = db.session()
        return session.execute(sa.select(Job).where(Job.id == job_id)).scalar_one()


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_reaches_the_broker(app, make, calls):
    org = make.org()
    with app.app_context(), pytest.raises(RuntimeError):
        with db.transaction() as session:
            _queue_probe(session, org.id)
            raise RuntimeError("the write fails after asking for the job")
    assert broker(app).pending_count() == 0
    assert run_queued(app) == [] and calls == []
    with app.app_context(), db.transaction() as session:
        job = _queue_probe(session, org.id)
    assert broker(app).pending_count() == 1
    assert names(run_queued(app)) == ["run_job"] and len(calls) == 1
    assert _job(app, job.id).status is JobStatus.DONE


def test_a_duplicate_message_for_a_job_does_nothing(app, make, calls):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        job = _queue_probe(session, org.id)
        jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))  # the same job twice
    assert names(run_queued(app)) == ["run_job", "run_job"]
    assert len(calls) == 1
    done = _job(app, job.id)
    assert done.status is JobStatus.DONE and done.attempts == 1


def test_a_failing_job_is_retried_with_backoff_then_kept_as_failed_for_an_admin(app, make, calls):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        job = _queue_probe(session, org.id, fail_times=99)
    ran = run_queued(app)
    assert len(ran) == 4 and len(calls) == 4  # JOBS_RETRIES = 3 retries after the first run
    # the waits before the retries double (JOBS_RETRY_DELAY 0.01 s, JOBS_RETRY_BACKOFF 2): a
    # requeued run carries the wait before the next one
    assert [task.retry_delay for task in ran[:3]] == pytest.approx([0.02, 0.04, 0.08])
    failed = _job(app, job.id)
    assert failed.status is JobStatus.FAILED and failed.attempts == 4
    assert "disk full on run 4" in failed.error
    listed = app.test_cli_runner().invoke(args=["jobs", "list", "--failed"])
    assert listed.exit_code == 0 and str(job.id) in listed.output and "disk full on run 4" in listed.output
    retried = app.test_cli_runner().invoke(args=["jobs", "retry", str(job.id)])
    assert retried.exit_code == 0, retried.output
    again = _job(app, job.id)
    assert again.status is JobStatus.QUEUED and again.attempts == 0
    assert again.error is None and (again.progress_done, again.progress_total) == (0, None)
    assert names(run_queued(app)) == ["run_job"] * 4  # fails again: its handler still does


def test_a_job_that_fails_then_succeeds_is_done_with_its_file(app, make, calls):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        job = _queue_probe(session, org.id, fail_times=2)
    assert len(run_queued(app)) == 3
    done = _job(app, job.id)
    assert done.status is JobStatus.DONE and done.attempts == 3 and done.error is None
    with app.app_context():
        assert services.job_file(db.session(), job.id).data == b"done"


def test_only_a_failed_job_can_be_retried(app, make, calls):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        job = _queue_probe(session, org.id)
    result = app.test_cli_runner().invoke(args=["jobs", "retry", str(job.id)])
    assert result.exit_code != 0 and "Only a failed job can be retried" in result.output
    unknown = app.test_cli_runner().invoke(args=["jobs", "retry", str(uuid.uuid4())])
    assert unknown.exit_code != 0 and "No such job" in unknown.output


def test_the_sweep_hands_a_lost_message_off_again_and_takes_back_a_dead_workers_job(app, make, calls):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        lost = services.create_job(
            session, kind="probe", params={}, org_id=org.id, created_by_id=None, max_attempts=4
        )
        abandoned = services.create_job(
            session, kind="probe", params={}, org_id=org.id, created_by_id=None, max_attempts=4
        )
        last_try = services.create_job(
            session, kind="probe", params={}, org_id=org.id, created_by_id=None, max_attempts=1
        )
        long_ago = utcnow() - timedelta(hours=1)
        session.execute(sa.update(Job).where(Job.id == lost.id).values(handed_off_at=long_ago))
        for job in (abandoned, last_try):  # claimed by a worker that died
            session.execute(
                sa.update(Job)
                .where(Job.id == job.id)
                .values(status=JobStatus.RUNNING, attempts=1, lease_until=long_ago)
            )
    with app.app_context():
        assert jobs.sweep([]) == 2
    assert _job(app, last_try.id).status is JobStatus.FAILED
    assert _job(app, last_try.id).error == services.LOST  # for an admin: English, as stored
    assert names(run_queued(app)) == ["run_job", "run_job"] and len(calls) == 2
    assert {_job(app, j.id).status for j in (lost, abandoned)} == {JobStatus.DONE}
    with app.app_context():
        assert jobs.sweep([]) == 0  # and the lease keeps a second sweep out until it expires
        assert not services.take_lease(db.session(), "sweep", seconds=1)


def test_a_run_taken_back_cannot_report_finish_or_fail_even_when_a_retry_reset_the_attempts(app, make):
    org = make.org()
    with app.app_context(), db.transaction() as session:
        job = services.create_job(
            session, kind="probe", params={}, org_id=org.id, created_by_id=None, max_attempts=1
        )
        old = services.claim(session, job.id, lease=LEASE)
        # its worker stalls past its lease: the sweep fails the job (its last attempt), an
        # admin retries it, and a new run claims it, again as attempt 1
        session.execute(sa.update(Job).where(Job.id == job.id).values(lease_until=utcnow() - LEASE))
        services.recover(session, grace=LEASE)
        services.retry_job(session, job.id)
        new = services.claim(session, job.id, lease=LEASE)
        assert old is not None and new is not None
        assert old.attempt == new.attempt == 1 and old.claim_id != new.claim_id
        assert not services.report_progress(session, old, done=1, total=2, lease=LEASE)
        assert not services.finish(session, old, filename="old.txt", content_type="text/plain", data=b"old")
        assert services.fail(session, old, error="the old run failed") is None
        assert services.report_progress(session, new, done=1, total=2, lease=LEASE)
        assert services.finish(session, new, filename="new.txt", content_type="text/plain", data=b"new")
    done = _job(app, job.id)
    assert done.status is JobStatus.DONE and done.error is None
    with app.app_context():
        assert services.job_file(db.session(), job.id).data == b"new"


def test_a_handler_whose_job_was_taken_back_stops_and_leaves_the_job_to_the_new_run(app, make):
    org = make.org()
    reached = []

    def stalled(params: dict[str, Any], progress: jobs.Progress) -> tuple[str, str, bytes]:
        progress(0, 2, force=True)
        with db.separate_transaction() as session:  # meanwhile the job went to another run
            session.execute(sa.update(Job).values(claim_id=uuid.uuid4()))
        progress(1, 2, force=True)
        reached.append("after")
        return "late.txt", "text/plain", b"late"

    app.extensions["traceapp.jobs"].handlers["stalled"] = stalled
    with app.app_context(), db.transaction() as session:
        job = services.create_job(
            session, kind="stalled", params={}, org_id=org.id, created_by_id=None, max_attempts=4
        )
        jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))
    assert names(run_queued(app)) == ["run_job"]  # not failed, so not retried by Huey
    assert reached == []
    kept = _job(app, job.id)
    assert kept.status is JobStatus.RUNNING and kept.attempts == 1 and kept.error is None
    assert kept.progress_done == 0  # the stopped run's last report did not land
    with app.app_context():
        assert services.job_file(db.session(), job.id) is None


def test_a_page_an_event_bumps_is_rendered_by_the_worker(app, client, make):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"))
    broker(app).flush()
    code = certificate.trace_code
    with app.app_context():
        assert pages.stored_page(code, "zh") is not None  # issuing stored it
    shipped = post(
        client,
        producer,
        kind="shipping",
        trace_code=code,
        quantity="10",
        unit="kg",
        to_org=str(market.org.id),
    )
    assert shipped.status_code == 201
    with app.app_context():
        assert pages.stored_page(code, "zh") is None  # bumped: renders live until stored
    assert names(run_queued(app)) == ["render_pages"]
    with app.app_context():
        stored, live = pages.stored_page(code, "en"), pages.render(db.session(), code)
        assert stored is not None and stored.version == 2
        assert stored.html == gzip.decompress(live["en"])  # the page as it is after the event


def test_a_write_commits_and_answers_quickly_when_the_redis_broker_is_down(
    app, connection, database_url, make, monkeypatch, caplog, request
):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"))
    broker(app).flush()
    monkeypatch.setenv("TRACEAPP_JOBS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    down = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "JOBS_BROKER_TIMEOUT": 0.5}
    )
    down.extensions["traceapp.db"].sessions.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    request.addfinalizer(down.extensions["traceapp.db"].dispose)
    pool = down.extensions["traceapp.jobs"].huey.storage.pool
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.5
    assert pool.connection_kwargs["socket_timeout"] == 1.5  # and the worker's 1 s blocking read
    code = certificate.trace_code
    started = time.monotonic()
    shipped = post(
        down.test_client(),
        producer,
        kind="shipping",
        trace_code=code,
        quantity="10",
        unit="kg",
        to_org=str(market.org.id),
    )
    assert shipped.status_code == 201 and time.monotonic() - started < 3
    assert "could not hand render_pages to the job broker" in caplog.text
    with app.app_context():
        assert pages.stored_page(code, "zh") is None  # committed, its page stale: the durable part
        jobs.sweep([lambda budget: pages.refresh_stale(budget=budget)])  # a worker on a live broker
        assert pages.stored_page(code, "zh").version == 2


def test_the_sweep_stores_pages_whose_message_was_lost(app, make):
    producer = make.member()
    certificate = make.certificate(producer)
    with app.app_context(), db.transaction() as session:
        session.execute(sa.update(PublicPage).values(version=PublicPage.version + 1))  # as a lost render
    with app.app_context():
        assert pages.stored_page(certificate.trace_code, "zh") is None
        jobs.sweep([lambda budget: pages.refresh_stale(budget=budget)])
        assert pages.stored_page(certificate.trace_code, "zh") is not None


# -- two workers racing, on a committed database (real, separately committed transactions) ----


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a committed database of its own (SQLite file or PostgreSQL database)."""
    with committed_database("jobs", tmp_path_factory.mktemp("jobs")) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "j", "TESTING": True})
        yield app
        app.extensions["traceapp.jobs"].huey.storage.close()
        app.extensions["traceapp.db"].dispose()


def test_two_workers_racing_for_one_job_claim_it_once(committed_app):
    app = committed_app
    with app.app_context(), db.transaction() as session:
        org = orgs.create_organisation(session, kind=OrgKind.PRODUCER, name="p", region_code="420116")
        job = services.create_job(
            session, kind="probe", params={}, org_id=org.id, created_by_id=None, max_attempts=1
        )
    barrier, claims = threading.Barrier(2), []

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            with db.transaction() as session:
                claims.append(services.claim(session, job.id, lease=LEASE))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [c for c in claims if c is not None]
    assert len(claims) == 2 and len(won) == 1 and won[0].attempt == 1
    assert _job(app, job.id).status is JobStatus.RUNNING
