"""``traceapp worker`` and ``traceapp jobs list|retry``: run the queue, and let an admin see
and retry failed jobs."""

from __future__ import annotations

import logging
import uuid

import click
from flask.cli import AppGroup, with_appcontext

from traceapp import jobs
from traceapp.db import transaction
from traceapp.errors import DomainError
from traceapp.jobs import services

jobs_cli = AppGroup("jobs", help="Queued work: exports and their failures.")


@click.command("worker")
@click.option("--workers", default=2, type=click.IntRange(1, 64), help="Worker threads in this process.")
@click.option("--no-periodic", is_flag=True, help="Do not run the periodic sweep in this process.")
@with_appcontext
def worker(workers: int, no_periodic: bool) -> None:
    """Run jobs from the broker (TRACEAPP_JOBS_URL) until interrupted: page renders, exports,
    and every minute the sweep (stale pages, lost or abandoned jobs). Run one or more on any
    host; a job's result is stored once however many there are."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Threads, not processes: the app (and its database engine) was built before the consumer
    # starts, and an engine must not cross a fork. Run more processes for more cores.
    consumer = jobs.queue().huey.create_consumer(
        workers=workers, worker_type="thread", periodic=not no_periodic, check_worker_health=True
    )
    consumer.run()


@jobs_cli.command("list")
@click.option("--failed", is_flag=True, help="Only the jobs that failed for good.")
@click.option("--limit", default=50, type=click.IntRange(1, 10_000))
@with_appcontext
def jobs_list(failed: bool, limit: int) -> None:
    """The latest jobs, newest first: id, kind, status, attempts, progress, created, error."""
    with transaction() as session:
        rows = services.list_jobs(session, failed_only=failed, limit=limit)
        for job in rows:
            total = "?" if job.progress_total is None else job.progress_total
            click.echo(
                "\t".join(
                    [
                        str(job.id),
                        job.kind,
                        job.status.value,
                        f"{job.attempts}/{job.max_attempts}",
                        f"{job.progress_done}/{total}",
                        job.created_at.isoformat(timespec="seconds"),
                        (job.error or "").replace("\n", " "),
                    ]
                )
            )


@jobs_cli.command("retry")
@click.argument("job_id", type=click.UUID)
@with_appcontext
def jobs_retry(job_id: uuid.UUID) -> None:
    """Queue a failed job again, with its attempts, error and progress reset."""
    try:
        with transaction() as session:
            job = services.retry_job(session, job_id)
            jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))
    except DomainError as exc:
        raise click.ClickException(str(exc.detail or exc.title)) from None
    click.echo(f"{job_id} queued (attempt 1 of {job.max_attempts})", err=True)


COMMANDS = (worker, jobs_cli)
