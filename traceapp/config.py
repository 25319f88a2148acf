"""Configuration: defaults, then ``TRACEAPP_*`` environment variables, then test overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

#: The development key. ``create_app`` refuses to run with it outside debug and testing.
DEV_SECRET_KEY = "dev-only-not-secret"


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the built-in settings; every key can be set as ``TRACEAPP_<KEY>``."""
    db_file = Path(instance_path) / "traceapp.sqlite3"
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{db_file}",
        # SQLite: seconds a write waits for the write lock before it answers 503 (busy).
        "DATABASE_BUSY_TIMEOUT": 10,
        # Scheme and host printed QR codes point at; empty means "the host serving the request".
        "PUBLIC_BASE_URL": "",
        "REPORT_MAX_BYTES": 10 * 1024 * 1024,
        #: A phone photo of a paper certificate (it is re-encoded, and shrunk, when stored).
        "PURCHASE_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
        # A seal or signature image: a scan or a phone photo of one, before re-encoding.
        "SEAL_MAX_BYTES": 2 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        # EPCIS capture (/epcis/capture): the folder holding GS1's EPCIS-JSON-Schema.json and
        # epcis-context.jsonld (not shipped: GS1 gives them no open-source licence; `traceapp
        # epcis fetch-artefacts` downloads them from ref.gs1.org into it); a document
        # of at most EPCIS_CAPTURE_MAX_BYTES and EPCIS_CAPTURE_MAX_EVENTS events (413 beyond);
        # up to EPCIS_CAPTURE_INLINE_EVENTS events it is captured within the request, above on
        # the job queue.
        "EPCIS_ARTEFACTS_DIR": str(Path(instance_path) / "epcis"),
        "EPCIS_CAPTURE_MAX_BYTES": 12 * 1024 * 1024,
        "EPCIS_CAPTURE_MAX_EVENTS": 10_000,
        "EPCIS_CAPTURE_INLINE_EVENTS": 500,
        "SESSION_COOKIE_HTTPONLY": True,
        # None: Secure whenever PUBLIC_BASE_URL is https (set true or false to decide yourself).
        "SESSION_COOKIE_SECURE": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        # The zone of dates for visitors who are not signed in and organisations without a zone
        # of their own (each organisation has one, in its settings: organisations.timezone).
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        # A fixed "now" for defaults such as today's harvest date (ISO 8601 with its offset,
        # 2026-12-03T17:30:00Z); empty: real time. Tests and demos only (refused in production).
        "CLOCK_NOW": "",
        "LANGUAGES": ["zh_CN", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "traceapp",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Swagger UI ships inside the package (static/swagger-ui/, vendored with its licence):
        # the docs work offline and under our CSP. flask-smorest registers the docs page only
        # when this is set; our templates/swagger_ui.html builds the files' URLs itself.
        "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/",
        "API_SPEC_OPTIONS": {
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
        "PAGE_SIZE_MAX": 100,
        # Allowed °C per product category (low, high; None = open). Data, not code: provinces
        # and buyers differ. Defaults from common practice (DOMAIN.md section 6).
        "TEMPERATURE_RANGES": {
            "livestock": [0, 4],
            "poultry": [0, 4],
            "aquatic": [0, 4],
            "vegetable": [0, 5],
            "edible_fungus": [0, 5],
            "fruit": [0, 10],
        },
        # A longer silence between logger readings makes a leg's data incomplete.
        "TEMPERATURE_MAX_GAP_MINUTES": 30,
        # Enzyme inhibition (GB/T 5009.199): this rate in % or more is positive.
        "ENZYME_INHIBITION_THRESHOLD": 50,
        "LOGGER_FILE_MAX_BYTES": 5 * 1024 * 1024,
        # The job broker: empty for a SQLite file in the instance folder, or redis://host:port/db.
        "JOBS_URL": "",
        # Queue name on the broker (keys are prefixed with it on Redis).
        "JOBS_NAME": "traceapp",
        # Seconds to connect to a Redis broker, and (plus the worker's 1 s blocking read) to
        # wait for its answer: a write that hands off a job after its commit must not hang on
        # a broker that is down (the sweep sends the message later).
        "JOBS_BROKER_TIMEOUT": 2,
        # A failing job runs again after JOBS_RETRY_DELAY s, then that times JOBS_RETRY_BACKOFF
        # for each further attempt, JOBS_RETRIES times; then it is kept as failed.
        "JOBS_RETRIES": 3,
        "JOBS_RETRY_DELAY": 10,
        "JOBS_RETRY_BACKOFF": 2,
        # A running job whose worker reports nothing for this long is taken back and run again.
        "JOBS_LEASE_SECONDS": 300,
        # A queued job no worker claimed within this time is handed to the broker again.
        "JOBS_GRACE_SECONDS": 300,
        # How long the periodic sweep (every minute) may spend rendering stale pages.
        "JOBS_SWEEP_SECONDS": 50,
        # Above this many rows, GET export.csv/.xlsx answer 413: start an export job instead.
        "EXPORT_SYNC_MAX_ROWS": 10_000,
        # Rate limits (limits' notation: "N per second|minute|hour|day", several joined by ";").
        "RATELIMIT_ENABLED": True,
        # Shared counters: redis://host:port/db for several hosts; empty for a SQLite file in the
        # instance folder (shared by the processes of one machine); memory:// counts per process.
        "RATELIMIT_STORAGE_URL": "",
        "RATELIMIT_STRATEGY": "fixed-window",
        # Proxies in front that append to X-Forwarded-For; 0 means the peer address is the client.
        "RATELIMIT_TRUSTED_PROXIES": 0,
        # Per address: a market's gate or a shop behind one address scans hundreds an hour.
        "RATELIMIT_PUBLIC": "120 per minute; 3000 per hour",
        "RATELIMIT_LOOKUP": "30 per minute; 600 per hour",
        # Per API token (per address for requests without one).
        "RATELIMIT_API": "1200 per minute",
        # Sign-in: attempts per address, then the wait after failures (see throttle/signin.py).
        "RATELIMIT_SIGNIN": "20 per minute; 200 per hour",
        "RATELIMIT_SIGNIN_FREE_FAILURES": 5,
        "RATELIMIT_SIGNIN_FREE_FAILURES_PER_ADDRESS": 20,
        "RATELIMIT_SIGNIN_BACKOFF_SECONDS": 2,
        "RATELIMIT_SIGNIN_BACKOFF_MAX_SECONDS": 900,
        "RATELIMIT_SIGNIN_FAILURES_SECONDS": 3600,
        # Password checks running at once on the machine; 0: one fewer than it has cores.
        "PASSWORD_HASH_SLOTS": 0,
        # Scan counting (traceapp/public/scans.py): where a view of /t/<code> is noted without
        # a database write. Empty: Redis when JOBS_URL is Redis, else a file in the instance
        # folder; or redis://host:port/db, or file:///path/scans.log. SCAN_COUNTING false: off.
        "SCAN_COUNTING": True,
        "SCAN_COUNTER_URL": "",
        # The file counter: seconds the flush waits after renaming the file before reading it
        # (every process notices the rename within a second and writes to a new file).
        "SCAN_FILE_GRACE_SECONDS": 2,
        # A header a trusted proxy or CDN sets with the client's region (such as X-Geo-Region):
        # a place is then that region, not the client's /24 (or /48) network.
        "SCAN_PLACE_HEADER": "",
        # A page shows new counts at most this often (its first scan, and a change of status,
        # at once): a popular page is not rendered again at every flush.
        "SCAN_PAGE_REFRESH_SECONDS": 600,
        # Suspicious (a copied label): more than max(MIN, PER_UNIT × batch size) scans, or more
        # than max(PLACES, batch size) distinct places (0: places are not judged). A kilogram,
        # piece or box reaches a buyer or two, who may scan it a few times, and a gate checks
        # it: 20 scans a unit is generous; 500 keeps a small batch on a busy stall from tripping
        # it. Each unit can reach one buyer somewhere: more places than units, past 50, are a
        # label printed again.
        "SCAN_SUSPICIOUS_PER_UNIT": 20,
        "SCAN_SUSPICIOUS_MIN": 500,
        "SCAN_SUSPICIOUS_PLACES": 50,
        # Where a consumer reports a problem (every public page links to it): a URL, tel: or
        # mailto:. Default: the national 12315 consumer hotline and its website.
        "REPORT_URL": "https://www.12315.cn/",
        # A holder's hand-over code for the market gate is good for this many hours.
        "HANDOVER_CODE_HOURS": 48,
        # Notification senders (traceapp/notify/senders.py): "console" (logged), file:///path
        # (JSON lines appended), smtp://user:pass@host:port?starttls=1&from=addr or smtps://...
        "NOTIFY_EMAIL_URL": "console",
        # "console", file:///path, or tencent://SECRET_ID:SECRET_KEY@sms.tencentcloudapi.com
        # ?app=SDK_APP_ID&sign=SIGN_NAME&template=TEMPLATE_ID&region=ap-guangzhou
        "NOTIFY_SMS_URL": "console",
        # Webhooks go only to public addresses: an organisation's admin sets the URL, and it must
        # not reach the database, the broker or a metadata service. True for a private network
        # whose receivers you trust (and the tests' receivers on 127.0.0.1).
        "NOTIFY_WEBHOOK_ALLOW_PRIVATE": False,
    }


class ConfigError(RuntimeError):
    """A setting the app refuses to run with; the message says which and what to do."""


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply defaults, ``TRACEAPP_*`` environment variables and ``overrides`` to ``app.config``.

    Raises ConfigError when the development secret key would be used in production.
    """
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_prefixed_env("TRACEAPP")
    app.config.from_mapping(overrides or {})
    app.config["PUBLIC_BASE_URL"] = str(app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_BASE_URL"].lower().startswith("https://")
    if app.config["CLOCK_NOW"] and not _is_dev(app):
        raise ConfigError("TRACEAPP_CLOCK_NOW stands the clock still: for tests and demos, not production.")
    if app.config["SECRET_KEY"] == DEV_SECRET_KEY and not _is_dev(app):
        raise ConfigError(
            "TRACEAPP_SECRET_KEY is not set: refusing to run outside development with the "
            "built-in key (set TRACEAPP_ENV=development for local use)."
        )


def _is_dev(app: Flask) -> bool:
    env = str(app.config.get("ENV") or os.environ.get("TRACEAPP_ENV", "production"))
    return app.debug or app.testing or env in {"development", "dev", "test"}
