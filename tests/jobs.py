"""Run what the app handed to its job broker, through Huey's own API (dequeue, then execute,
as a consumer's worker does), in the test's thread and so on the test's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from huey import Huey


def broker(app: Flask) -> Huey:
    """The app's Huey instance."""
    return app.extensions["traceapp.jobs"].huey


def run_queued(app: Flask, *, limit: int = 100) -> list[Any]:
    """Execute queued tasks, and scheduled ones (retries after their backoff) as if their time
    had come, until none is left; the tasks that ran, in order."""
    huey, ran = broker(app), []
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # Huey keeps naive UTC
    while len(ran) < limit:
        # (Redis blocks a second on an empty queue: look before taking)
        task = huey.dequeue() if huey.pending_count() else None
        if task is None:
            due = huey.read_schedule(later)
            if not due:
                return ran
            for task in due:
                huey.enqueue(task)
            continue
        ran.append(task)
        huey.execute(task, timestamp=later)
    raise AssertionError(f"more than {limit} tasks: a task that requeues itself forever?")


def names(tasks: list[Any]) -> list[str]:
    """The task names (``run_job``, ``render_pages``) of queued or executed tasks."""
    return [type(t).__name__ for t in tasks]
