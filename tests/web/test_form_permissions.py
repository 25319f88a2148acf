"""Who may post which form: every write page, taken from the app's URL map.

For each form post: anonymous visitors are sent to sign in; every kind of organisation the
permission table refuses gets a 403 page in the user's language (never a 500); an organisation
with no claim to the object gets the stated refusal; nothing is written; and the rightful user's
same post goes through. A new write page fails until it gets an entry in ``FORMS`` (one line).
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.test_permissions import WRITE_METHODS, World, snapshot
from tests.factories import PASSWORD, Member, seal_image
from tests.web.test_certificate_pages import FORM, sign_in
from traceapp import create_app
from traceapp.events.models import EventKind
from traceapp.events.rules import ACTIONS
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import Action, may

EN = {"Accept-Language": "en"}
#: Posts open to anonymous visitors: they are how one signs in and out.
OPEN = {"POST /login", "POST /logout"}


@dataclass(frozen=True)
class Form:
    """One form post: where and what, the table's action, who must get through (and with which
    status), and who has no claim to the object with the status they get."""

    post: Callable[[World], tuple[str, dict[str, Any]]]
    action: Action
    owner: Callable[[World], Member]
    strangers: list[tuple[Callable[[World], Member], int]] = field(default_factory=list)
    success: int = 302


def shipping_form(w: World) -> dict[str, Any]:
    return {
        "kind": "shipping",
        "event_id": str(uuid.UUID(int=7)),
        "trace_code": w.certificate.trace_code,
        "quantity": "5",
        "unit": "kg",
        "to_org": str(w.market.org.id),
        "occurred_at": "2026-11-21T08:00",
    }


def colleague(w: World) -> Member:
    """A member (not an admin) of the producer's organisation, the same one on every call."""
    if "colleague" not in w.__dict__:
        w.__dict__["colleague"] = w.another(org=w.producer.org, role=Role.MEMBER)
    return w.__dict__["colleague"]


def purchase_form() -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=21)),
        "seller.name": "张三",
        "purchased_at": "2026-12-01T07:30",
        "lines.0.product_name": "大白菜",
        "lines.0.quantity": "20",
        "lines.0.unit": "kg",
        "lines.0.collected": "none",
        "lines.0.exemption": "own_produce",
    }


FORMS: dict[str, Form] = {
    "POST /purchases/new": Form(
        lambda w: ("/purchases/new", purchase_form()), Action.PURCHASE, lambda w: w.market
    ),
    "POST /purchases/<uuid:purchase_id>/void": Form(
        lambda w: (f"/purchases/{w.purchase}/void", {"reason": "录错了"}),
        Action.PURCHASE,
        lambda w: w.market,
        [(lambda w: w.another(OrgKind.MARKET), 404)],
    ),
    "POST /certificates/new": Form(
        lambda w: ("/certificates/new", {**FORM, "event_id": str(uuid.UUID(int=8))}),
        Action.ISSUE,
        lambda w: w.producer,
    ),
    "POST /certificates/<uuid:certificate_id>/revoke": Form(
        lambda w: (f"/certificates/{w.certificate.id}/revoke", {"reason": "写错了", "confirm": "yes"}),
        Action.REVOKE,
        lambda w: w.producer,
        [
            (lambda w: w.another(), 404),
            (lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403),
        ],
    ),
    "POST /events/new": Form(
        lambda w: ("/events/new", shipping_form(w)),
        Action.SHIP,
        lambda w: w.producer,
    ),
    "POST /gate": Form(
        lambda w: (
            "/gate",
            # the shipment to the market first: the verdict the page showed it is ACCEPT
            {
                "code": w.shipment and w.certificate.trace_code,
                "event_id": str(uuid.UUID(int=11)),
                "verdict": "accepted",
            },
        ),
        Action.INSPECT,
        lambda w: w.market,
        [(lambda w: w.another(OrgKind.MARKET), 409)],  # not shipped to it: REJECT, so nothing recorded
    ),
    "POST /custody/codes": Form(
        lambda w: (
            "/custody/codes",
            {"event_id": str(uuid.UUID(int=9)), "trace_code": w.certificate.trace_code},
        ),
        Action.HAND_OVER,
        lambda w: w.producer,
        [(lambda w: w.another(OrgKind.MARKET), 409)],  # holds none of it: the form again with why
    ),
    "POST /custody/disputes": Form(
        lambda w: (
            "/custody/disputes",
            {"event_id": str(uuid.UUID(int=10)), "gate_check_id": w.gate_take, "reason": "冒用"},
        ),
        Action.DISPUTE,
        lambda w: w.producer,
        [(lambda w: w.another(), 422)],
    ),
    "POST /custody/disputes/<uuid:dispute_id>/resolve": Form(
        lambda w: (f"/custody/disputes/{w.dispute}/resolve", {"decision": "dismissed", "note": "属实"}),
        Action.RESOLVE_DISPUTE,
        lambda w: w.regulator,
    ),
    "POST /recalls/new": Form(
        lambda w: (
            "/recalls/new",
            {"trace_codes": w.certificate.trace_code, "reason": "农残超标", "severity": "class_i"},
        ),
        Action.RECALL,
        lambda w: w.producer,
        [(lambda w: w.another(), 403)],
    ),
    "POST /notifications/<uuid:notification_id>/read": Form(
        lambda w: (f"/notifications/{w.notification}/read", {}),
        Action.READ_NOTIFICATIONS,
        lambda w: w.producer,
        [(lambda w: w.another(), 404), (lambda w: w.market, 404)],
    ),
    "POST /notifications/settings": Form(
        lambda w: ("/notifications/settings", {"email": "office@coop.example.cn"}),
        Action.MANAGE_NOTIFICATIONS,
        lambda w: w.producer,
    ),
    "POST /notifications/read-all": Form(
        lambda w: ("/notifications/read-all", {}),
        Action.READ_NOTIFICATIONS,
        lambda w: w.producer,
    ),
    "POST /recalls/<uuid:recall_id>/acknowledge": Form(
        lambda w: (f"/recalls/{w.recall}/acknowledge", {}),
        Action.ACKNOWLEDGE_RECALL,
        lambda w: w.market,
        [(lambda w: w.another(OrgKind.MARKET), 404)],
    ),
    "POST /recalls/<uuid:recall_id>/exports": Form(
        lambda w: (f"/recalls/{w.recall}/exports", {"format": "xlsx", "columns": "zh"}),
        Action.EXPORT_RECALL,
        lambda w: w.market,
        [(lambda w: w.another(OrgKind.MARKET), 404)],
    ),
    "POST /tokens": Form(
        lambda w: ("/tokens", {"name": "东门扫码枪", "scopes": ["read", "events"], "expires_in_days": "30"}),
        Action.MANAGE_TOKENS,
        lambda w: w.market,
        success=200,  # the page shows the new token's secret this once
    ),
    "POST /tokens/<uuid:token_id>/revoke": Form(
        lambda w: (f"/tokens/{w.market_gate_token}/revoke", {}),
        Action.MANAGE_TOKENS,
        lambda w: w.market,
        [
            (lambda w: w.another(OrgKind.MARKET), 404),
            (lambda w: w.another(org=w.market.org, role=Role.MEMBER), 404),
        ],
    ),
    "POST /account/password": Form(
        lambda w: (
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "new-pass-2026",
                "confirm_password": "new-pass-2026",
            },
        ),
        Action.MANAGE_TOKENS,  # every signed-in user: only their own password
        lambda w: w.market,
    ),
    "POST /org/members": Form(
        lambda w: ("/org/members", {"mobile": "139 0000 7777", "password": "first-pass-2026"}),
        Action.MANAGE_MEMBERS,
        lambda w: w.producer,
        [(lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403)],
    ),
    "POST /org/members/<uuid:user_id>/password": Form(
        lambda w: (f"/org/members/{colleague(w).user.id}/password", {"password": "first-pass-2026"}),
        Action.MANAGE_MEMBERS,
        lambda w: w.producer,
        [
            (lambda w: w.another(), 404),  # another organisation's admin: not their member
            (lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403),
        ],
    ),
    "POST /org/settings": Form(
        lambda w: ("/org/settings", {"timezone": "Europe/Berlin"}),
        Action.MANAGE_SETTINGS,
        lambda w: w.producer,
        [(lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403)],
    ),
    "POST /org/seal": Form(
        lambda w: ("/org/seal", {"seal": (io.BytesIO(seal_image()), "seal.png")}),
        Action.MANAGE_SETTINGS,
        lambda w: w.producer,
        [(lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403)],
    ),
    "POST /org/seal/remove": Form(
        lambda w: ("/org/seal/remove", {}),
        Action.MANAGE_SETTINGS,
        lambda w: w.sealed_producer,
        [(lambda w: w.another(org=w.sealed_producer.org, role=Role.MEMBER), 403)],
    ),
    "POST /recalls/<uuid:recall_id>/close": Form(
        lambda w: (f"/recalls/{w.recall}/close", {"note": "已处理"}),
        Action.CLOSE_RECALL,
        lambda w: w.regulator,
        [(lambda w: w.producer, 403), (lambda w: w.another(), 404)],
    ),
}


def form_posts() -> list[str]:
    """``METHOD rule`` of every write outside the API (``/api/`` and the EPCIS binding at
    ``/epcis/``, both token-authenticated: tests/api/test_permissions.py), from the URL map of a
    fresh app."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api/", "/epcis/"))
        for method in rule.methods & WRITE_METHODS
    )


@pytest.mark.parametrize("endpoint", sorted(set(form_posts()) - OPEN))
def test_every_form_post(client, make, dbsession, endpoint):
    assert endpoint in FORMS, f"{endpoint} has no entry in FORMS: add one (a Form)"
    form, world = FORMS[endpoint], World(client, make)
    owner = form.owner(world)
    refused = [world.another(k) for k in OrgKind if not may(k, Role.ADMIN, form.action)]
    strangers = [(stranger(world), status) for stranger, status in form.strangers]
    form.post(world)  # build what the post acts on before the snapshot
    before = snapshot(dbsession)

    def send(member: Member | None, lang: str = "en") -> Any:
        client.post("/logout")
        if member is not None:
            sign_in(client, member)
        url, data = form.post(world)
        return client.post(url, data=data, headers={"Accept-Language": lang})

    anonymous = send(None)
    assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
    for member in refused:
        for lang, html_lang, title in (
            ("en", 'lang="en"', "Not allowed"),
            ("zh-CN", 'lang="zh-CN"', "无权操作"),
        ):
            page = send(member, lang)
            assert page.status_code == 403 and page.mimetype == "text/html"
            assert html_lang in page.get_data(as_text=True) and title in page.get_data(as_text=True)
    for member, status in strangers:
        page = send(member)
        assert page.status_code == status and page.mimetype == "text/html"
    assert snapshot(dbsession) == before
    response = send(owner)
    assert response.status_code == form.success, response.get_data(as_text=True)


def test_every_entry_is_a_form_post_of_the_app():
    assert set(FORMS) <= set(form_posts()) - OPEN


def offered_kinds(client) -> list[str]:
    html = client.get("/events/new?lang=en").get_data(as_text=True)
    return re.findall(r'href="/events/new\?kind=(\w+)', html)


@pytest.mark.parametrize("kind", list(OrgKind))
def test_the_event_forms_offered_are_the_kinds_the_table_allows(client, make, kind):
    member = sign_in(client, make.member(kind))
    offered = offered_kinds(client)
    allowed = [k.value for k in EventKind if k in ACTIONS and may(kind, Role.ADMIN, ACTIONS[k])]
    assert sorted(offered) == sorted(set(allowed) - {"commissioning"}), member.org.kind


def test_a_form_the_table_refuses_is_not_shown_even_when_asked_for(client, make):
    sign_in(client, make.member())  # a producer: it does not portion
    page = client.get("/events/new?kind=portioning").get_data(as_text=True)
    assert 'name="kind" value="portioning"' not in page and 'name="kind" value="shipping"' in page


def test_only_who_may_sees_the_issue_and_revoke_buttons(client, make):
    issuer = make.member()
    certificate = make.certificate(issuer)
    colleague = make.member(org=issuer.org, role=Role.MEMBER)
    sign_in(client, colleague)
    assert "Issue a certificate" in client.get("/certificates", headers=EN).get_data(as_text=True)
    assert "Revoke certificate" not in client.get(f"/certificates/{certificate.id}", headers=EN).get_data(
        as_text=True
    )
    client.post("/logout")
    sign_in(client, issuer)
    assert "Revoke certificate" in client.get(f"/certificates/{certificate.id}", headers=EN).get_data(
        as_text=True
    )
    client.post("/logout")
    sign_in(client, make.member(OrgKind.CARRIER))
    assert "Issue a certificate" not in client.get("/certificates", headers=EN).get_data(as_text=True)
    assert client.get("/certificates/new").status_code == 403
