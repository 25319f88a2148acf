"""The permission table: every action has someone, and the rules the domain states hold."""

from __future__ import annotations

import uuid

import pytest

from traceapp import create_app
from traceapp.errors import PermissionDenied
from traceapp.events.models import EventKind
from traceapp.events.rules import ACTIONS
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import TABLE, Action, may, require
from traceapp.orgs.services import Actor

K = OrgKind
A = Action


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_action_is_in_the_table_with_at_least_one_kind_and_role(action):
    assert TABLE[action].kinds and TABLE[action].roles
    assert any(may(kind, role, action) for kind in OrgKind for role in Role)


def test_every_kind_of_event_is_an_action_of_the_table():
    assert set(ACTIONS) == set(EventKind)


def kinds_that_may(action: Action, role: Role = Role.MEMBER) -> set[OrgKind]:
    return {kind for kind in OrgKind if may(kind, role, action)}


@pytest.mark.parametrize(
    ("action", "kinds"),
    [
        (A.ISSUE, {K.PRODUCER, K.PROCESSOR, K.MARKET}),
        (A.UPLOAD_REPORT, {K.PRODUCER, K.PROCESSOR, K.MARKET}),
        (A.INSPECT, {K.MARKET, K.REGULATOR}),
        (A.TRANSFORM, {K.PROCESSOR, K.MARKET}),
        (A.PORTION, {K.MARKET}),
        (A.AGGREGATE, set(OrgKind) - {K.REGULATOR, K.CARRIER}),
        (A.SHIP, set(OrgKind) - {K.REGULATOR}),
        (A.SELL, set(OrgKind) - {K.REGULATOR, K.CARRIER}),
        (A.CORRECT, set(OrgKind)),
        (A.RECALL, {K.REGULATOR, K.PRODUCER, K.PROCESSOR, K.MARKET}),
        (A.RECALL_ANY, {K.REGULATOR}),
        (A.ACKNOWLEDGE_RECALL, set(OrgKind)),
        (A.CLOSE_ANY_RECALL, {K.REGULATOR}),
        (A.SEE_OVERVIEW, {K.REGULATOR}),
        (A.TRACE_FULL, {K.REGULATOR}),
    ],
    ids=lambda v: v.value if isinstance(v, Action) else "",
)
def test_the_kinds_the_domain_names_for_each_action(action, kinds):
    assert kinds_that_may(action) == kinds


def test_who_issues_may_recall_and_close_its_own_recalls_and_only_a_regulator_any():
    assert kinds_that_may(A.ISSUE) < kinds_that_may(A.RECALL) == kinds_that_may(A.CLOSE_RECALL)
    assert kinds_that_may(A.RECALL_ANY) == kinds_that_may(A.CLOSE_ANY_RECALL) == {K.REGULATOR}


def test_whoever_makes_new_codes_is_a_kind_that_issues():
    for action in (A.TRANSFORM, A.PORTION):
        assert kinds_that_may(action) <= kinds_that_may(A.ISSUE)


def test_only_an_admin_revokes_a_certificate_a_colleague_issued():
    assert may(K.PRODUCER, Role.ADMIN, A.REVOKE_COLLEAGUES)
    assert not may(K.PRODUCER, Role.MEMBER, A.REVOKE_COLLEAGUES)
    assert may(K.PRODUCER, Role.MEMBER, A.REVOKE)
    assert not may(K.CARRIER, Role.ADMIN, A.REVOKE)


def test_a_regulator_checks_and_recalls_but_does_not_trade():
    trading = {A.ISSUE, A.SHIP, A.RECEIVE, A.STORE, A.TRANSPORT, A.TRANSFORM, A.PORTION, A.SELL, A.DESTROY}
    assert not any(may(K.REGULATOR, Role.ADMIN, action) for action in trading)
    assert all(may(K.REGULATOR, Role.MEMBER, a) for a in (A.INSPECT, A.RECALL, A.CORRECT))


def test_require_refuses_with_a_403_that_names_who_may():
    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})  # no database is touched
    carrier = Actor(user_id=uuid.uuid4(), org_id=uuid.uuid4(), org_kind=K.CARRIER, role=Role.ADMIN)
    require(carrier, A.SHIP)
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(PermissionDenied) as refused,
    ):
        require(carrier, A.ISSUE)
    assert refused.value.status == 403
    assert refused.value.detail == "Only producers, markets, and processors may issue certificates."
    with (
        app.test_request_context(headers={"Accept-Language": "zh-CN"}),
        pytest.raises(PermissionDenied) as refused,
    ):
        require(carrier, A.PORTION)
    assert refused.value.detail == "只有市场可以分装批次。"


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_action_has_a_refusal_in_both_languages(action):
    # A row narrowed later must refuse with a 403 that reads, never a KeyError (a 500).
    from traceapp.orgs.texts import denied

    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})
    for lang, word in (("en", "Only "), ("zh-CN", "只有")):
        with app.test_request_context(headers={"Accept-Language": lang}):
            assert denied(action).startswith(word)
