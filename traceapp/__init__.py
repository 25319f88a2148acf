"""traceapp: commitment compliance certificates (承诺达标合格证) and trace codes for farm produce."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → db → babel → CSRF → Api → blueprints → error handlers → CLI."""
    from flask_wtf.csrf import CSRFProtect

    from traceapp import api, cli, config, db, errors, i18n
    from traceapp.certificates import api as certificates_api
    from traceapp.certificates import views as certificates_views
    from traceapp.events import api as events_api
    from traceapp.events import views as events_views
    from traceapp.orgs import views as orgs_views
    from traceapp.public import views as public_views
    from traceapp.recalls import api as recalls_api
    from traceapp.recalls import views as recalls_views

    app = Flask(__name__, instance_relative_config=True)
    config.load(app, overrides)
    db.init_app(app)
    i18n.init_app(app)
    CSRFProtect(app)
    api.init_app(app, [certificates_api.blp, certificates_api.reports_blp, events_api.blp,
                       events_api.codes_blp, events_api.logs_blp, recalls_api.trace_blp,
                       recalls_api.blp])
    for blueprint in (public_views.bp, orgs_views.bp, certificates_views.bp, events_views.bp,
                      recalls_views.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    cli.init_app(app)
    return app
