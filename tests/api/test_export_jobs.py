"""Recall exports as jobs: 202 with a job resource, progress, a file byte for byte the direct
export's, only for the organisation that asked; the direct exports refuse large recalls."""

# ruff: noqa: F811  (``world`` is a fixture imported from the recall tests)

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.api.test_trace_recall_api import recall, world  # noqa: F401  (fixture)
from tests.jobs import names, run_queued
from tests.web.test_certificate_pages import sign_in
from traceapp import db, jobs
from traceapp.jobs import services as job_services
from traceapp.jobs.models import Job
from traceapp.recalls import exports


@pytest.fixture()
def opened(client, world):
    """A recall of the cabbage (5 batches downstream), opened by the regulator; the pages its
    journey left behind already rendered by the worker."""
    opened = recall(client, world["regulator"], [world["cabbage"]]).json
    run_queued(client.application)
    return opened


def start(client, who, recall_id, **body):
    return client.post(
        f"/api/v1/recalls/{recall_id}/exports", json=body, headers={**who.headers, "Accept-Language": "en"}
    )


@pytest.mark.parametrize(("fmt", "columns"), [("csv", "en"), ("csv", "zh"), ("xlsx", "en"), ("xlsx", "zh")])
def test_an_export_job_reports_progress_and_its_file_is_the_direct_export_byte_for_byte(
    client,
    world,
    opened,
    fmt,
    columns,
):
    regulator = world["regulator"]
    started = start(client, regulator, opened["id"], format=fmt, columns=columns)
    assert started.status_code == 202
    job = started.json
    assert started.headers["Location"] == job["url"] and job["url"].endswith(f"/exports/{job['id']}")
    assert job["status"] == "queued" and job["download_url"] is None
    assert job["progress"] == {"done": 0, "total": None, "percent": 0}
    assert client.get(job["url"], headers=regulator.headers).json["status"] == "queued"

    assert names(run_queued(app_of(client))) == ["run_job"]
    done = client.get(job["url"], headers=regulator.headers).json
    direct = client.get(
        f"/api/v1/recalls/{opened['id']}/export.{fmt}?columns={columns}", headers=regulator.headers
    )
    rows = direct.data.count(b"\n") - 1 if fmt == "csv" else None
    assert done["status"] == "done" and done["error"] is None and done["attempts"] == 1
    assert done["progress"]["done"] == done["progress"]["total"] > 0 and done["progress"]["percent"] == 100
    if rows is not None:
        assert done["progress"]["total"] == rows  # the rows it reported are the rows it wrote
    file = client.get(done["download_url"], headers=regulator.headers)
    assert file.status_code == 200 and file.data == direct.data
    assert file.headers["Content-Type"].startswith("text/csv" if fmt == "csv" else "application/vnd.openxml")
    assert f"recall-{opened['id']}.{fmt}" in file.headers["Content-Disposition"]


def app_of(client):
    return client.application


def test_only_the_organisation_that_asked_reads_the_job_and_its_file(client, world, opened):
    job = start(client, world["market"], opened["id"], format="csv").json
    run_queued(app_of(client))
    assert client.get(job["url"], headers=world["market"].headers).status_code == 200
    for other in ("regulator", "farm", "other_farm"):  # sees the recall, or not: not its job
        assert client.get(job["url"], headers=world[other].headers).status_code == 404
        assert client.get(f"{job['url']}/file", headers=world[other].headers).status_code == 404
    assert client.get(job["url"]).status_code == 401
    assert client.get(f"{job['url']}/file").status_code == 401
    # another recall's URL with this job's id is not this job
    mine = recall(client, world["regulator"], [world["carrot"]]).json
    assert (
        client.get(
            f"/api/v1/recalls/{mine['id']}/exports/{job['id']}", headers=world["market"].headers
        ).status_code
        == 404
    )


def test_an_organisation_not_party_to_the_recall_cannot_start_an_export(client, world, opened):
    assert start(client, world["other_farm"], opened["id"], format="csv").status_code == 404
    assert start(client, world["other_farm"], opened["id"]).status_code == 422  # the body first


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "/format"),
        ({"format": "pdf"}, "/format"),
        ({"format": "csv", "columns": "fr"}, "/columns"),
        ({"format": "csv", "extra": 1}, "/extra"),
    ],
)
def test_a_bad_export_request_names_the_field_and_writes_nothing(
    client, world, opened, dbsession, body, field
):
    answer = start(client, world["regulator"], opened["id"], **body)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in [e["field"] for e in answer.json["errors"]]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_the_file_is_not_served_before_the_job_is_done(client, world, opened):
    job = start(client, world["regulator"], opened["id"], format="xlsx").json
    early = client.get(f"{job['url']}/file", headers=world["regulator"].headers)
    assert early.status_code == 409 and "queued" in early.json["detail"]


def test_a_direct_export_above_the_limit_answers_413_pointing_at_the_job_flow(client, world, opened):
    app_of(client).config["EXPORT_SYNC_MAX_ROWS"] = 3
    for ext in ("csv", "xlsx"):
        answer = client.get(
            f"/api/v1/recalls/{opened['id']}/export.{ext}",
            headers={**world["regulator"].headers, "Accept-Language": "en"},
        )
        assert answer.status_code == 413 and answer.mimetype == "application/problem+json"
        assert f"POST /api/v1/recalls/{opened['id']}/exports" in answer.json["detail"]
    sign_in(client, world["regulator"])
    page = client.get(f"/recalls/{opened['id']}/export.csv?lang=en")
    assert page.status_code == 413 and "export job" in page.get_data(as_text=True)
    # the job flow still builds it
    assert start(client, world["regulator"], opened["id"], format="csv").status_code == 202


def test_the_recall_page_builds_an_export_with_a_progress_bar(client, world, opened):
    sign_in(client, world["regulator"])
    show = client.get(f"/recalls/{opened['id']}?lang=en").get_data(as_text=True)
    assert 'action="/recalls/' in show and "Build the export" in show
    started = client.post(f"/recalls/{opened['id']}/exports", data={"format": "csv", "columns": "zh"})
    assert started.status_code == 302
    waiting = client.get(started.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in waiting and '<progress max="100" value="0"' in waiting
    assert "<script" not in waiting
    chinese = client.get(started.headers["Location"] + "?lang=zh").get_data(as_text=True)
    assert "导出" in chinese
    run_queued(app_of(client))
    ready = client.get(started.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "http-equiv" not in ready and '<progress max="100" value="100"' in ready and "Download" in ready
    file = client.get(started.headers["Location"] + "/file")
    direct = client.get(f"/recalls/{opened['id']}/export.csv?columns=zh")
    assert (
        file.status_code == 200
        and file.data == direct.data
        and file.data.startswith("\ufeff追溯码,".encode())
    )
    bad = client.post(f"/recalls/{opened['id']}/exports?lang=en", data={"format": "pdf"})
    assert bad.status_code == 422 and "Choose one of the listed values." in bad.get_data(as_text=True)


def test_a_failed_export_tells_its_owner_so_and_only_an_admin_why(client, world, opened):
    app = app_of(client)
    raw = 'connection to server at "db.internal" (10.0.0.5), port 5432 failed: SELECT * FROM jobs'

    def broken(params, progress):
        raise RuntimeError(raw)

    app.extensions["traceapp.jobs"].handlers["recall_export"] = broken
    job = start(client, world["regulator"], opened["id"], format="csv").json
    # between attempts, the owner learns that one failed, not why
    huey = app.extensions["traceapp.jobs"].huey
    huey.execute(huey.dequeue())
    retrying = client.get(job["url"], headers={**world["regulator"].headers, "Accept-Language": "en"})
    assert retrying.json["status"] == "queued" and "db.internal" not in retrying.get_data(as_text=True)
    assert retrying.json["error"] == "An attempt to build the export failed; it will be tried again."
    assert len(run_queued(app)) == 3
    failed = client.get(job["url"], headers={**world["regulator"].headers, "Accept-Language": "en"})
    assert failed.json["status"] == "failed" and failed.json["attempts"] == 4
    assert failed.json["error"] == (
        "The export could not be built after 4 attempts; an administrator has been told why and can retry it."
    )
    assert failed.json["download_url"] is None
    chinese = client.get(job["url"], headers={**world["regulator"].headers, "Accept-Language": "zh"})
    assert chinese.json["error"] == "导出经过 4 次尝试仍未能生成；管理员已获知原因，可以重试。"
    sign_in(client, world["regulator"])
    page = client.get(f"/recalls/{opened['id']}/exports/{job['id']}?lang=en").get_data(as_text=True)
    assert "Failed" in page and "The export failed after 4 attempts." in page and "http-equiv" not in page
    assert "An administrator has been told why and can retry it." in page
    page_zh = client.get(f"/recalls/{opened['id']}/exports/{job['id']}?lang=zh").get_data(as_text=True)
    assert "导出经过 4 次尝试后失败。" in page_zh
    for answer in (
        retrying.get_data(as_text=True),
        failed.get_data(as_text=True),
        chinese.get_data(as_text=True),
        page,
        page_zh,
    ):
        assert "db.internal" not in answer and "10.0.0.5" not in answer and "SELECT" not in answer
    listed = app.test_cli_runner().invoke(args=["jobs", "list", "--failed"])
    assert listed.exit_code == 0 and job["id"] in listed.output and raw in listed.output


class _Recorded(jobs.Progress):
    """The real reporter, keeping a note of the reports it wrote."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forced = []

    def __call__(self, done, total, *, force=False):
        super().__call__(done, total, force=force)
        if force:
            self.forced.append((done, total))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_extends_its_lease_around_its_long_steps(client, world, opened, fmt):
    app = app_of(client)
    job = start(client, world["regulator"], opened["id"], format=fmt).json
    with app.app_context():
        with db.transaction() as session:
            claim = job_services.claim(session, uuid.UUID(job["id"]), lease=timedelta(minutes=5))
        progress = _Recorded(claim, timedelta(minutes=5))
        exports.build_export(claim.params, progress)
    total = client.get(job["url"], headers=world["regulator"].headers).json["progress"]["total"]
    # before and after counting, before and after putting the file together
    assert progress.forced == [(0, None), (0, total), (total, total), (total, total)]
