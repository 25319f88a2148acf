"""JSON API plumbing: the flask-smorest Api, a strict argument parser and a Blueprint using it."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, request
from flask_babel import gettext as _
from webargs.flaskparser import FlaskParser

from traceapp.auth import api_actor
from traceapp.errors import PermissionDenied
from traceapp.orgs.scopes import UnknownEndpoint, scope_for

api = flask_smorest.Api()


class StrictParser(FlaskParser):
    """Reject unknown query-string and form fields too (webargs excludes them by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "form": None,
        "files": None,
    }


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint: a token with the endpoint's scope is required (checked before
    the body is parsed, so an anonymous caller gets 401 and a token without the scope 403, not
    a validation error), and arguments are parsed strictly."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.before_request(_require_token)


def _require_token() -> None:
    actor = api_actor()
    rule = request.url_rule.rule if request.url_rule else request.path
    try:
        scope = scope_for(request.method, rule)
    except UnknownEndpoint:  # fail closed: an endpoint nobody gave a scope is no one's
        raise PermissionDenied(_("No token scope allows this endpoint yet.")) from None
    if scope is not None and not actor.has_scope(scope):
        raise PermissionDenied(_("This token lacks the scope '%(scope)s'.", scope=scope.value))


def init_app(app: Flask, blueprints: list[Any]) -> None:
    """Create the Api on ``app`` and register the API blueprints (CSRF does not apply to them)."""
    api.init_app(app)
    csrf = app.extensions["csrf"]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
