"""Rate limits on pages: sign-in (per address, per account, a growing wait), the public page
through the front layer, the typed-code look-up. Each test sets small limits on its own app."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from traceapp.throttle import throttle
from traceapp.throttle.signin import backoff_seconds


@pytest.fixture()
def limits(app):
    """Set this test's limits: ``limits(RATELIMIT_PUBLIC="3 per minute")`` (read per request)."""
    return app.config.update


def sign_in(client, email, password, lang="en", address="198.51.100.7"):
    return client.post(
        "/login",
        data={"login": email, "password": password},
        headers={"Accept-Language": lang},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_on_one_account_make_the_next_attempt_wait_longer(client, make, limits):
    limits(RATELIMIT_SIGNIN_FREE_FAILURES=2, RATELIMIT_SIGNIN_BACKOFF_SECONDS=30)
    user = make.member().user
    assert [sign_in(client, user.email, "wrong-guess").status_code for _ in range(2)] == [401, 401]
    third = sign_in(client, user.email, "wrong-guess")
    assert third.status_code == 401  # the first failure past the free ones sets the wait
    refused = sign_in(client, user.email, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert 25 <= int(refused.headers["Retry-After"]) <= 30
    html = refused.get_data(as_text=True)
    assert "Too many sign-in attempts" in html and 'name="password"' in html  # the form again
    assert "user_id" not in (client.get_cookie("session").value if client.get_cookie("session") else "")


def test_the_wait_doubles_with_each_further_failure():
    assert [backoff_seconds(n, free=5, first=2, longest=900) for n in (4, 5, 6, 7, 8, 20)] == [
        0,
        0,
        2,
        4,
        8,
        900,
    ]


def test_the_wait_is_per_account_and_reads_in_chinese(client, make, limits):
    limits(RATELIMIT_SIGNIN_FREE_FAILURES=1, RATELIMIT_SIGNIN_BACKOFF_SECONDS=60)
    victim, other = make.member().user, make.member().user
    sign_in(client, victim.email, "wrong-guess", address="203.0.113.1")
    sign_in(client, victim.email, "wrong-guess", address="203.0.113.2")
    refused = sign_in(client, victim.email, "wrong-guess", lang="zh-CN", address="203.0.113.3")
    assert refused.status_code == 429  # other addresses, the same account
    assert "登录尝试次数过多" in refused.get_data(as_text=True)
    assert sign_in(client, other.email, PASSWORD, address="203.0.113.3").status_code == 302


def test_unknown_accounts_wait_as_known_ones_do(client, limits):
    limits(RATELIMIT_SIGNIN_FREE_FAILURES=1, RATELIMIT_SIGNIN_BACKOFF_SECONDS=60)
    answers = [sign_in(client, "nobody@example.cn", "wrong-guess").status_code for _ in range(3)]
    assert answers == [401, 401, 429]


def test_success_clears_the_accounts_failures(client, make, limits):
    limits(RATELIMIT_SIGNIN_FREE_FAILURES=2, RATELIMIT_SIGNIN_BACKOFF_SECONDS=60)
    user = make.member().user
    sign_in(client, user.email, "wrong-guess")
    sign_in(client, user.email, "wrong-guess")
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    # Counting starts again: two more failures are free, the third sets a wait.
    assert [sign_in(client, user.email, "wrong-guess").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_failures_from_one_address_on_many_accounts_make_that_address_wait(client, make, limits):
    limits(RATELIMIT_SIGNIN_FREE_FAILURES_PER_ADDRESS=3, RATELIMIT_SIGNIN_BACKOFF_SECONDS=60)
    emails = [f"guess{n}@example.cn" for n in range(4)]
    assert [sign_in(client, e, "wrong-guess").status_code for e in emails] == [401] * 4
    user = make.member().user
    assert sign_in(client, user.email, PASSWORD).status_code == 429
    assert sign_in(client, user.email, PASSWORD, address="198.51.100.8").status_code == 302


def test_attempts_per_address_are_limited_before_any_password_is_checked(client, make, limits):
    limits(RATELIMIT_SIGNIN="3 per minute")
    user = make.member().user
    answers = [sign_in(client, user.email, "wrong-guess").status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    assert sign_in(client, user.email, PASSWORD).status_code == 429


def test_sign_in_is_refused_at_once_when_every_hashing_slot_is_busy(client, app, make):
    user = make.member().user
    slots = throttle(app).hash_slots
    held = [slots.take() for _ in range(slots.count)]
    assert all(slot.__enter__() for slot in held)
    try:
        busy = sign_in(client, user.email, PASSWORD)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
        assert "Many people are signing in right now" in busy.get_data(as_text=True)
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_public_page_is_limited_per_address_in_front_of_flask(client, make, limits):
    limits(RATELIMIT_PUBLIC="3 per minute")
    certificate = make.certificate(make.member())
    url = f"/t/{certificate.trace_code}"
    first = client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert first.status_code == 200 and first.headers.get("ETag")  # served by the front layer
    client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    client.get(f"{url}?lang=zh", environ_base={"REMOTE_ADDR": "192.0.2.10"})  # via Flask: counts too
    refused = client.get(
        url, headers={"Accept-Language": "zh-CN"}, environ_base={"REMOTE_ADDR": "192.0.2.10"}
    )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert refused.mimetype == "text/html" and "请求过于频繁" in refused.get_data(as_text=True)
    client.delete_cookie("lang")
    english = client.get(url, headers={"Accept-Language": "en"}, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert "Too many requests from your address" in english.get_data(as_text=True)
    assert client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.11"}).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, make, limits):
    limits(RATELIMIT_PUBLIC="1 per minute", RATELIMIT_TRUSTED_PROXIES=1)
    certificate = make.certificate(make.member())
    url = f"/t/{certificate.trace_code}"

    def get(forwarded):
        headers = {"X-Forwarded-For": forwarded}
        return client.get(url, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code

    assert get("192.0.2.20") == 200
    assert get("192.0.2.21") == 200  # another client behind the same proxy
    assert get("1.2.3.4, 192.0.2.20") == 429  # a forged left-hand entry changes nothing


def test_typed_code_lookups_are_limited_per_address(client, make, limits):
    limits(RATELIMIT_LOOKUP="2 per minute")
    certificate = make.certificate(make.member())
    env = {"REMOTE_ADDR": "192.0.2.30"}
    assert client.get(f"/t?code={certificate.trace_code}", environ_base=env).status_code == 302
    assert client.get("/t?code=XXXX", environ_base=env).status_code == 404
    assert client.get("/t", environ_base=env).status_code == 200  # the empty form does not count
    refused = client.get(f"/t?code={certificate.trace_code}&lang=zh", environ_base=env)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "请求过于频繁" in refused.get_data(as_text=True)
