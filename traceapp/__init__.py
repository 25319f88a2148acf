"""traceapp: commitment compliance certificates (承诺达标合格证) and trace codes for farm produce."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → db → job queue → babel → templating → headers → CSRF → Api →
    blueprints → error handlers → rate limits → CLI → front layer."""
    from flask import request
    from flask_wtf.csrf import CSRFProtect

    from traceapp import api, auth, cli, config, db, errors, headers, i18n, jobs, templating, throttle
    from traceapp.certificates import api as certificates_api
    from traceapp.certificates import views as certificates_views
    from traceapp.certificates.status import FACTS_READER
    from traceapp.epcis import api as epcis_api
    from traceapp.epcis import capture as epcis_capture
    from traceapp.epcis import rest as epcis_rest
    from traceapp.epcis import tasks as epcis_tasks
    from traceapp.events import api as events_api
    from traceapp.events import custody_api, custody_views, gate_views, pallets_api
    from traceapp.events import views as events_views
    from traceapp.events.queries import batch_facts_of
    from traceapp.notify import api as notify_api
    from traceapp.notify import services as notify_services
    from traceapp.notify import tasks as notify_tasks
    from traceapp.notify import views as notify_views
    from traceapp.orgs import api as orgs_api
    from traceapp.orgs import operator_api, party
    from traceapp.orgs import views as orgs_views
    from traceapp.public import pages, scans, stored_wsgi
    from traceapp.public import views as public_views
    from traceapp.purchases import api as purchases_api
    from traceapp.purchases import views as purchases_views
    from traceapp.recalls import api as recalls_api
    from traceapp.recalls import exports
    from traceapp.recalls import views as recalls_views
    from traceapp.resolver import views as resolver_views

    app = Flask(__name__, instance_relative_config=True)
    app.session_interface = auth.SessionCookies()
    config.load(app, overrides)
    database = db.init_app(app)
    app.extensions[FACTS_READER] = batch_facts_of  # the certificate pages' status facts
    pages.init_app(app, database.sessions)
    scans.init_app(app)
    jobs.init_app(
        app,
        database.sessions,
        tasks={pages.RENDER_TASK: pages.render_pages, notify_services.DELIVER_TASK: notify_tasks.deliver},
        handlers={
            exports.EXPORT_JOB: exports.build_export,
            epcis_capture.CAPTURE_JOB: epcis_tasks.capture_document,
        },
        sweeps=[
            lambda budget: pages.refresh_stale(budget=budget),
            notify_tasks.requeue_lost,
            lambda _budget: scans.flush(),
        ],
    )
    i18n.init_app(app)
    templating.init_app(app)
    headers.init_app(app)
    csrf = CSRFProtect(app)
    # Flask-WTF's own hook looks up exemptions on every request, reads included; check only the
    # methods that can change something (GET /t/<code> carries most of our traffic).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def _nobody_yet() -> None:
        # Who is asking is decided per request. A request runs in an app context that is usually
        # its own, but one pushed around several requests (a test's, a script's) would hand the
        # first caller's actor to the next: another organisation's token would act as the first.
        auth.forget_caller()

    @app.before_request
    def _csrf_protect() -> None:
        if app.config["WTF_CSRF_ENABLED"] and request.method in app.config["WTF_CSRF_METHODS"]:
            csrf.protect(apply_exemptions=True)

    api_blueprints = [
        certificates_api.blp,
        certificates_api.reports_blp,
        events_api.blp,
        events_api.codes_blp,
        epcis_api.blp,
        events_api.logs_blp,
        custody_api.codes_blp,
        custody_api.takes_blp,
        custody_api.disputes_blp,
        pallets_api.blp,
        recalls_api.trace_blp,
        recalls_api.blp,
        orgs_api.tokens_blp,
        orgs_api.audit_blp,
        operator_api.blp,
        notify_api.blp,
        purchases_api.blp,
    ]
    api.init_app(app, api_blueprints)
    for blueprint in (
        public_views.bp,
        pallets_api.bp,
        orgs_views.bp,
        certificates_views.bp,
        events_views.bp,
        custody_views.bp,
        gate_views.bp,
        recalls_views.bp,
        notify_views.bp,
        resolver_views.bp,
        party.bp,
        epcis_rest.bp,
        purchases_views.bp,
    ):
        app.register_blueprint(blueprint)
    # The EPCIS binding is token-authenticated like /api/v1: no CSRF token.
    csrf.exempt(epcis_rest.bp)
    errors.init_app(app)
    throttle.init_app(app, api_blueprints=[*api_blueprints, epcis_rest.bp], lookup_endpoint="public.lookup")
    cli.init_app(app)
    stored_wsgi.install(app)
    return app
