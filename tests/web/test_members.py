"""Signing in by mobile number, and an organisation's admin looking after its members: adding
one by mobile number with a first password to change, resetting a member's password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import AuditEntry, OrgKind, Role, User, UserSession

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
FIRST = "first-pass-2026"


def post_login(client, typed: str, password: str = PASSWORD, **kwargs):
    return client.post("/login", data={"login": typed, "password": password}, headers=EN, **kwargs)


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+86 138-0013-8000"])
def test_a_farmer_signs_in_with_the_mobile_number_typed_any_of_three_ways(client, make, typed):
    make.member(mobile="13800138000")
    response = post_login(client, typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/certificates").status_code == 200


def test_the_mobile_number_is_stored_in_one_form(make, dbsession):
    member = make.member(mobile="+86 138-0013-8000")
    assert dbsession.get(User, member.user.id).mobile == "+8613800138000"


def test_a_wrong_password_for_a_mobile_number_is_refused_and_audited_under_the_number(
    client, make, dbsession
):
    member = make.member(mobile="13800138000")
    response = post_login(client, "138 0013 8000", "wrong-guess")
    assert response.status_code == 401
    assert "Wrong mobile number, e-mail address or password" in response.get_data(as_text=True)
    failed = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "sign_in.failed")).one()
    assert failed.org_id == member.org.id and failed.details == {"mobile": "+8613800138000"}


def test_the_sign_in_form_asks_for_a_mobile_number_or_e_mail_in_both_languages(client):
    assert "Mobile number or e-mail" in client.get("/login", headers=EN).get_data(as_text=True)
    assert "手机号或电子邮箱" in client.get("/login", headers=ZH).get_data(as_text=True)


def test_every_way_of_typing_one_number_counts_as_one_account_for_the_wait(client, make, app):
    app.config.update(RATELIMIT_SIGNIN_FREE_FAILURES=2, RATELIMIT_SIGNIN_BACKOFF_SECONDS=60)
    make.member(mobile="13800138000")
    answers = [
        post_login(client, typed, "wrong-guess", environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code
        for n, typed in enumerate(["13800138000", "138 0013 8000", "+86 138-0013-8000", "+8613800138000"])
    ]
    assert answers == [401, 401, 401, 429]


def add(client, **data):
    return client.post("/org/members", data={"password": FIRST, **data}, headers=EN)


def test_an_admin_adds_a_member_by_mobile_who_must_change_the_first_password(app, make, dbsession):
    # Clients of our own: pytest-flask's ``client`` keeps its last request's context pushed,
    # and another client's request would run in it (as that user).
    client = app.test_client()
    admin = sign_in(client, make.member())
    response = add(client, mobile="139 0000 7777")
    assert response.status_code == 302
    user = dbsession.scalars(sa.select(User).where(User.mobile == "+8613900007777")).one()
    assert user.org_id == admin.org.id and user.role is Role.MEMBER and user.email is None
    assert user.must_change_password
    page = client.get("/org/members", headers=EN).get_data(as_text=True)
    assert "139 0000 7777" in page and "First password not yet changed" in page

    farmer = app.test_client()
    signed_in = post_login(farmer, "13900007777", FIRST)
    assert signed_in.status_code == 302 and "/account/password" in signed_in.headers["Location"]
    blocked = farmer.get("/certificates/new")
    assert blocked.status_code == 302 and "/account/password" in blocked.headers["Location"]
    assert "Choose your own" in farmer.get("/account/password", headers=EN).get_data(as_text=True)
    changed = farmer.post(
        blocked.headers["Location"],
        data={"current_password": FIRST, "new_password": "my-own-2026", "confirm_password": "my-own-2026"},
    )
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/certificates/new")
    assert farmer.get("/certificates/new").status_code == 200
    dbsession.expire_all()
    assert not dbsession.get(User, user.id).must_change_password
    added = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.added")).one()
    assert added.actor_user_id == admin.user.id and added.subject_id == str(user.id)


@pytest.mark.parametrize(
    ("data", "field_text"),
    [
        ({"mobile": "12800138000"}, "11 digits starting with 13 to 19"),
        ({"mobile": "010 6552 9988"}, "11 digits starting with 13 to 19"),  # a landline
        ({"mobile": "+49 1512 3456789"}, "11 digits starting with 13 to 19"),
        ({}, "Enter a mobile number or an e-mail address"),
        ({"mobile": "13900007777", "password": "short"}, "at least 8 characters"),
    ],
)
def test_a_member_that_cannot_be_added_is_refused_with_the_reason(client, make, dbsession, data, field_text):
    sign_in(client, make.member())
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(User))
    response = add(client, **data)
    assert response.status_code == 422 and field_text in response.get_data(as_text=True)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_a_mobile_number_already_registered_is_refused_beside_the_field(client, make):
    make.member(mobile="13900007777")
    sign_in(client, make.member())
    response = add(client, mobile="+86 139 0000 7777")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "This mobile number is already registered." in html and 'id="mobile-error"' in html


def test_a_member_who_is_no_admin_sees_no_members_page(client, make):
    admin = make.member()
    sign_in(client, make.member(org=admin.org, role=Role.MEMBER))
    assert client.get("/org/members", headers=EN).status_code == 403
    assert "Members" not in client.get("/certificates", headers=EN).get_data(as_text=True)


def test_resetting_a_password_ends_the_members_sessions_and_is_audited(app, make, dbsession):
    client = app.test_client()
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER, mobile="13700001111")
    phone = app.test_client()
    assert post_login(phone, "13700001111").status_code == 302
    sign_in(client, admin)
    response = client.post(f"/org/members/{member.user.id}/password", data={"password": FIRST}, headers=EN)
    assert response.status_code == 302
    assert phone.get("/certificates").status_code == 302  # the member's session has ended
    assert post_login(app.test_client(), "13700001111").status_code == 401  # the old password
    again = post_login(app.test_client(), "13700001111", FIRST)
    assert again.status_code == 302 and "/account/password" in again.headers["Location"]
    entry = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "password.reset")).one()
    assert (entry.org_id, entry.actor_user_id, entry.subject_id) == (
        admin.org.id,
        admin.user.id,
        str(member.user.id),
    )
    assert entry.details == {"sessions_ended": 1}


def test_another_organisations_admin_cannot_reset_your_member(app, make, dbsession):
    client = app.test_client()
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER, mobile="13700001111")
    phone = app.test_client()
    assert post_login(phone, "13700001111").status_code == 302
    sign_in(client, make.member(OrgKind.MARKET))  # an admin, of another organisation
    response = client.post(f"/org/members/{member.user.id}/password", data={"password": FIRST}, headers=EN)
    assert response.status_code == 404
    assert phone.get("/certificates").status_code == 200
    assert post_login(app.test_client(), "13700001111").status_code == 302  # the password stands
    live = dbsession.scalars(sa.select(UserSession).where(UserSession.user_id == member.user.id)).all()
    assert all(s.ended_at is None for s in live)
    assert not dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "password.reset")).all()


def test_a_short_reset_password_is_refused_on_the_members_page(client, make):
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    sign_in(client, admin)
    response = client.post(f"/org/members/{member.user.id}/password", data={"password": "short"}, headers=EN)
    assert response.status_code == 422 and "at least 8 characters" in response.get_data(as_text=True)


def test_an_e_mail_address_that_starts_with_a_plus_still_signs_in_by_e_mail(client, make, dbsession):
    member = make.member()
    user = dbsession.get(User, member.user.id)
    user.email = "+shop@example.cn"
    dbsession.commit()
    assert post_login(client, "+Shop@Example.cn").status_code == 302


def test_a_new_member_is_no_administrator_unless_the_admin_chooses_so(client, make, dbsession):
    sign_in(client, make.member())
    page = client.get("/org/members", headers=EN).get_data(as_text=True)
    assert page.index('<option value="member"') < page.index('<option value="admin"')
    assert add(client, mobile="13900007777").status_code == 302
    assert add(client, mobile="13900008888", role="admin").status_code == 302
    roles = dict(
        dbsession.execute(sa.select(User.mobile, User.role).where(User.mobile.like("+86139%"))).all()
    )
    assert roles == {"+8613900007777": Role.MEMBER, "+8613900008888": Role.ADMIN}
