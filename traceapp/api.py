"""JSON API plumbing: the flask-smorest Api, a strict argument parser and a Blueprint using it."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask
from webargs.flaskparser import FlaskParser

api = flask_smorest.Api()


class StrictParser(FlaskParser):
    """Reject unknown query-string and form fields too (webargs excludes them by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None,
        "form": None, "files": None,
    }


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint whose arguments are parsed strictly."""

    ARGUMENTS_PARSER = StrictParser()


def init_app(app: Flask, blueprints: list[Any]) -> None:
    """Create the Api on ``app`` and register the API blueprints (CSRF does not apply to them)."""
    api.init_app(app)
    csrf = app.extensions["csrf"]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
