"""Page sessions live on the server: signing out or changing the password ends them, and the
cookie is Secure when the public base URL is https."""

from __future__ import annotations

import sqlalchemy as sa

from tests.factories import PASSWORD
from tests.web.test_certificate_pages import sign_in
from traceapp import create_app
from traceapp.orgs.models import AuditEntry, UserSession

EN = {"Accept-Language": "en"}
COOKIE = "session"


def saved_cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def signed_in(client) -> bool:
    return client.get("/certificates").status_code == 200


def test_a_saved_cookie_no_longer_works_after_signing_out(client, make, dbsession):
    member = make.member()
    sign_in(client, member)
    cookie = saved_cookie(client)
    assert signed_in(client)
    client.post("/logout")
    assert not signed_in(client)
    client.set_cookie(COOKIE, cookie)  # the attacker's copy of the cookie
    response = client.get("/certificates")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    ended = dbsession.scalars(sa.select(UserSession).where(UserSession.user_id == member.user.id)).one()
    assert ended.ended_at is not None


def test_a_cookie_that_names_no_server_session_signs_nobody_in(client, make, app):
    member = make.member()
    with client.session_transaction() as session:  # a cookie signed with our key, as before
        session["user_id"] = str(member.user.id)
        session["sid"] = "guessed"
    assert not signed_in(client)


def test_changing_the_password_ends_every_other_session_but_this_one(app, make, dbsession):
    member = make.member()
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, member)
    sign_in(laptop, member)
    response = laptop.post(
        "/account/password",
        headers=EN,
        data={
            "current_password": PASSWORD,
            "new_password": "new-pass-2026",
            "confirm_password": "new-pass-2026",
        },
    )
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    anew = app.test_client()
    assert anew.post("/login", data={"login": member.user.email, "password": PASSWORD}).status_code == 401
    assert (
        anew.post("/login", data={"login": member.user.email, "password": "new-pass-2026"}).status_code == 302
    )
    actions = set(
        dbsession.scalars(sa.select(AuditEntry.action).where(AuditEntry.actor_user_id == member.user.id))
    )
    assert {"sign_in", "password.changed"} <= actions


def test_a_wrong_current_password_or_mismatch_re_renders_the_form_in_the_users_language(client, make):
    member = make.member()
    sign_in(client, member)
    wrong = {
        "current_password": "nope-nope",
        "new_password": "new-pass-2026",
        "confirm_password": "new-pass-2026",
    }
    page = client.post("/account/password", data=wrong, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 422 and "当前密码不正确" in page.get_data(as_text=True)
    differ = {
        "current_password": PASSWORD,
        "new_password": "new-pass-2026",
        "confirm_password": "new-pass-2027",
    }
    page = client.post("/account/password", data=differ, headers=EN)
    assert page.status_code == 422 and "The two new passwords differ." in page.get_data(as_text=True)
    assert signed_in(client)


def test_the_session_cookie_is_secure_exactly_when_the_public_base_url_is_https(
    make, database_url, connection
):
    member = make.member()
    for base, secure in (("https://trace.example.cn", True), ("http://127.0.0.1:5000", False)):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "t",
                "WTF_CSRF_ENABLED": False,
                "PUBLIC_BASE_URL": base,
            }
        )
        app.extensions["traceapp.db"].sessions.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        response = app.test_client().post("/login", data={"login": member.user.email, "password": PASSWORD})
        cookie = response.headers["Set-Cookie"]
        assert ("; Secure" in cookie) is secure, cookie
        assert "HttpOnly" in cookie


def test_sign_ins_good_and_failed_are_audited(client, make, dbsession):
    member = make.member()
    client.post("/login", data={"login": member.user.email, "password": "wrong-password"})
    client.post("/login", data={"login": "nobody@example.cn", "password": "wrong-password"})
    sign_in(client, member)
    client.post("/logout")
    rows = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("sign%"))).all()
    mine = [(r.action, r.org_id) for r in rows if r.org_id == member.org.id]
    assert ("sign_in.failed", member.org.id) in mine and ("sign_in", member.org.id) in mine
    assert ("sign_out", member.org.id) in mine
    unknown = [r for r in rows if r.details and r.details.get("email") == "nobody@example.cn"]
    assert len(unknown) == 1 and unknown[0].org_id is None


def test_a_page_request_checks_its_session_in_one_query(client, make, count_queries):
    member = make.member()
    sign_in(client, member)
    client.get("/tokens")  # past the first request's bookkeeping
    with count_queries as q:
        client.get("/account/password")
    assert len(q.selects) == 1, q.selects
    assert "user_sessions" in q.selects[0]


def test_the_public_page_reads_no_session(client, make, count_queries):
    member = make.member()
    certificate = make.certificate(member)
    with count_queries as q:
        assert client.get(f"/t/{certificate.trace_code}").status_code == 200
    assert not [s for s in q.statements if "user_sessions" in s]


def test_a_script_that_still_posts_the_old_email_field_signs_in(client, make):
    from tests.web.test_certificate_pages import PASSWORD

    member = make.member()
    response = client.post("/login", data={"email": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/certificates").status_code == 200
