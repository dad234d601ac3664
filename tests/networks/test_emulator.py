"""The network emulator over real HTTP: as strict as the real APIs, and its control API.

No database: these tests talk to the emulator process only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from tests.emulator_fixture import NetworkEmulator, start_server_process, stop_server_process

REDIRECT = "http://app.test/callback"
LI_SCOPES = "openid profile email w_member_social"
X_SCOPES = "tweet.read tweet.write users.read offline.access"
FB_SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emu(network_emulator):
    network_emulator.reset()
    return network_emulator


# --- helpers -----------------------------------------------------------------------------------


def query_of(response) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get(emu, network, path, **kwargs):
    return requests.get(emu.origin(network) + path, allow_redirects=False, timeout=5, **kwargs)


def post(emu, network, path, **kwargs):
    return requests.post(emu.origin(network) + path, allow_redirects=False, timeout=5, **kwargs)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def li_version(emu) -> str:
    now = emu.state()["now"]
    return now[:4] + now[5:7]


def li_code(emu, scope=LI_SCOPES, **extra) -> str:
    params = {"response_type": "code", "client_id": "li-app", "redirect_uri": REDIRECT, "state": "s1", "scope": scope}
    response = get(emu, "linkedin", "/oauth/v2/authorization", params={**params, **extra})
    assert response.status_code == 302, response.text
    return query_of(response)["code"]


def li_exchange(emu, code, **overrides):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "li-app"}
    return post(emu, "linkedin", "/oauth/v2/accessToken", data={**data, "client_secret": "li-secret", **overrides})


def li_connect(emu, *, partner=False, name="Ada Lovelace"):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT], partner=partner)
    account = emu.create_account("linkedin", name)
    emu.auto_approve("linkedin", account["id"])
    response = li_exchange(emu, li_code(emu))
    assert response.status_code == 200, response.text
    return account, response.json()


def li_headers(emu, token, **extra):
    headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": li_version(emu)}
    return {**headers, "X-Restli-Protocol-Version": "2.0.0", **extra}


def li_body(account, text="Our new product is out", **extra):
    return {
        "author": f"urn:li:person:{account['id']}",
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        **extra,
    }


def li_publish(emu, token, account, text="Our new product is out", **extra):
    return post(emu, "linkedin", "/rest/posts", headers=li_headers(emu, token), json=li_body(account, text, **extra))


def x_authorize(emu, challenge, **extra):
    params = {
        "response_type": "code",
        "client_id": "x-app",
        "redirect_uri": REDIRECT,
        "scope": X_SCOPES,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return get(emu, "x", "/i/oauth2/authorize", params={k: v for k, v in {**params, **extra}.items() if v is not None})


def x_token(emu, data, secret="x-secret"):
    auth = ("x-app", secret) if secret else None
    return post(emu, "x", "/2/oauth2/token", data=data, auth=auth)


def x_connect(emu, *, secret="x-secret", scope=X_SCOPES, name="Grace Hopper"):
    emu.register_app("x", "x-app", secret, [REDIRECT])
    account = emu.create_account("x", name, username="grace")
    emu.auto_approve("x", account["id"])
    verifier, challenge = pkce()
    code = query_of(x_authorize(emu, challenge, scope=scope))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    response = x_token(emu, {**data, "client_id": "x-app"}, secret)
    assert response.status_code == 200, response.text
    return account, response.json()


def x_refresh(emu, token) -> dict:
    data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "x-app"}
    response = x_token(emu, data)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tweet(emu, token, text):
    return post(emu, "x", "/2/tweets", headers=bearer(token), json={"text": text})


def fb_code(emu, scope=FB_SCOPES):
    params = {"client_id": "fb-app", "redirect_uri": REDIRECT, "state": "s1", "scope": scope, "response_type": "code"}
    response = get(emu, "facebook", "/v24.0/dialog/oauth", params=params)
    assert response.status_code == 302, response.text
    return query_of(response)["code"]


def fb_connect(emu, *, tasks=("CREATE_CONTENT", "MODERATE"), long_lived=True, scope=FB_SCOPES):
    emu.register_app("facebook", "fb-app", "fb-secret", [REDIRECT])
    account = emu.create_account("facebook", "Alan Turing", pages=[{"id": "1001", "name": "Acme", "tasks": tasks}])
    emu.auto_approve("facebook", account["id"])
    params = {
        "client_id": "fb-app",
        "redirect_uri": REDIRECT,
        "client_secret": "fb-secret",
        "code": fb_code(emu, scope),
    }
    user_token = get(emu, "facebook", "/v24.0/oauth/access_token", params=params).json()["access_token"]
    if long_lived:
        params = {"grant_type": "fb_exchange_token", "client_id": "fb-app", "client_secret": "fb-secret"}
        response = get(emu, "facebook", "/v24.0/oauth/access_token", params={**params, "fb_exchange_token": user_token})
        user_token = response.json()["access_token"]
    pages = get(emu, "facebook", "/v24.0/me/accounts", params={"access_token": user_token}).json()["data"]
    return account, user_token, pages[0]["access_token"]


def fb_publish(emu, page_token, message="Hello from Acme", link="https://acme.test/news"):
    data = {"message": message, "link": link, "access_token": page_token}
    return post(emu, "facebook", "/v24.0/1001/feed", data=data)


def fb_error(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    return error


# --- the process and the control API --------------------------------------------------------------


def test_emulator_does_not_import_django():
    code = "import sys, networks.emulator.server; assert 'django' not in sys.modules, 'django imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=20)


def test_management_command_serves_the_same_emulator():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_network_emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert re.fullmatch(r"EMULATOR LISTENING http://127\.0\.0\.1:\d+\n", line), line
        assert requests.post(line.split()[-1] + "/_emulator/reset", timeout=5).json() == {}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _demo_emulator(state_file: Path, log_path: Path) -> NetworkEmulator:
    args = ["manage.py", "run_network_emulator", "--port", "0", "--demo", "--state-file", str(state_file)]
    process, url = start_server_process(args, "EMULATOR LISTENING", log_path, "The demo emulator")
    emulator = NetworkEmulator(url, process, log_path)
    deadline = time.monotonic() + 10
    while not any(a["username"] == "mark_acme" for a in emulator.state()["accounts"]):  # seeded last
        assert time.monotonic() < deadline, "the demo people were not registered"
        time.sleep(0.05)
    return emulator


def _demo_ids(emulator) -> set[tuple[str, str]]:
    return {(a["network"], a["id"]) for a in emulator.state()["accounts"] if a["name"] != "Grace Hopper"}


def test_demo_emulator_keeps_accounts_tokens_and_posts_across_a_restart(tmp_path):
    """`make run` restarts the emulator over a database that remembers its connections: a
    network would still know the member's token and posts, and so does the emulator, from
    --state-file (saved when stopped); without that file the demo people keep their ids."""
    state_file = tmp_path / "emulator.state"
    first = _demo_emulator(state_file, tmp_path / "first.log")
    try:
        demo_ids = _demo_ids(first)
        account, token = x_connect(first)
        posted = tweet(first, token["access_token"], "Before the restart")
        assert posted.status_code == 201, posted.text
    finally:
        stop_server_process(first.process)
    assert state_file.exists()

    second = _demo_emulator(state_file, tmp_path / "second.log")
    try:
        me = requests.get(second.url + "/x/2/users/me", headers=bearer(token["access_token"]), timeout=5)
        assert me.status_code == 200, me.text
        assert me.json()["data"]["id"] == account["id"]
        tweet_id = posted.json()["data"]["id"]
        read = requests.get(second.url + f"/x/2/tweets/{tweet_id}", headers=bearer(token["access_token"]), timeout=5)
        assert read.status_code == 200 and read.json()["data"]["text"] == "Before the restart", read.text
        # The duplicate check reads the author's posts from an index the file does not hold:
        # the restarted emulator builds it again, and refuses the same text a second time.
        again = tweet(second, token["access_token"], "Before the restart")
        assert again.status_code == 403 and "duplicate content" in again.text, again.text
        assert _demo_ids(second) == demo_ids  # seeded again without duplicates
        assert len(second.state()["accounts"]) == len(demo_ids) + 1
    finally:
        stop_server_process(second.process)

    state_file.unlink()
    third = _demo_emulator(state_file, tmp_path / "third.log")
    try:
        assert third.state()["posts"] == []
        assert _demo_ids(third) == demo_ids
    finally:
        stop_server_process(third.process)


def test_human_pages_list_accounts_posts_and_apps(emu):
    account, token = li_connect(emu)
    assert li_publish(emu, token["access_token"], account, "Visible on the page").status_code == 201
    index = requests.get(emu.url + "/", timeout=5)
    assert index.headers["Content-Type"].startswith("text/html")
    assert all(f'href="/{n}/"' in index.text for n in ("linkedin", "x", "facebook"))
    page = requests.get(emu.url + "/linkedin/", timeout=5).text
    assert "Ada Lovelace" in page and "Visible on the page" in page and "li-app" in page and "impressions" in page
    _, x_tok = x_connect(emu)
    tweet(emu, x_tok["access_token"], "A <b>tweet</b>")
    _, _, page_token = fb_connect(emu)
    fb_publish(emu, page_token, "A page post")
    x_page = requests.get(emu.url + "/x/", timeout=5).text
    assert "A &lt;b&gt;tweet&lt;/b&gt;" in x_page and "Grace Hopper" in x_page
    fb_page = requests.get(emu.url + "/facebook/", timeout=5).text
    assert "A page post" in fb_page and "Acme (<code>1001</code>): CREATE_CONTENT, MODERATE" in fb_page


def test_reset_forgets_everything(emu):
    li_connect(emu)
    emu.fault("x", "server_error")
    emu.advance_clock(3600)
    emu.reset()
    state = emu.state()
    assert (state["apps"], state["accounts"], state["tokens"], state["posts"], state["faults"]) == ([], [], [], [], [])
    assert state["clock_offset"] == 0 and state["auto_approve"] == {}


def test_accounts_get_network_shaped_ids_and_ids_are_unique(emu):
    linkedin = emu.create_account("linkedin", "Ada Lovelace")
    x = emu.create_account("x", "Grace Hopper")
    facebook = emu.create_account("facebook", "Alan Turing", pages=[{"name": "Acme", "tasks": ["CREATE_CONTENT"]}])
    assert re.fullmatch(r"[A-Za-z0-9]{10}", linkedin["id"])
    assert x["id"].isdigit() and facebook["id"].isdigit() and facebook["pages"][0]["id"].isdigit()
    assert linkedin["email"] and x["username"]
    with pytest.raises(AssertionError, match="409"):
        emu.create_account("x", "Someone", id=x["id"])


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("apps", {"network": "myspace", "client_id": "a", "client_secret": "b", "redirect_uris": [REDIRECT]}),
        ("apps", {"network": "linkedin", "client_id": "a", "client_secret": "", "redirect_uris": [REDIRECT]}),
        ("faults", {"network": "x", "kind": "meteor"}),
        ("faults", {"network": "facebook", "kind": "rate_limit", "code": 99}),
        ("clock", {"advance": -5}),
        ("auto_approve", {"network": "x", "account_id": "404"}),
    ],
)
def test_control_api_refuses_bad_input(emu, name, body):
    response = requests.post(f"{emu.url}/_emulator/{name}", json=body, timeout=5)
    assert response.status_code == 400 and response.json()["error"]


def test_faults_are_listed_and_consumed_each_time_they_fire(emu):
    _account, token = x_connect(emu)
    emu.fault("x", "server_error", times=2)
    assert [(f["kind"], f["times"]) for f in emu.faults()] == [("server_error", 2)]
    assert get(emu, "x", "/2/users/me", headers=bearer(token["access_token"])).status_code == 500
    assert emu.faults()[0]["times"] == 1
    assert get(emu, "x", "/2/users/me", headers=bearer(token["access_token"])).status_code == 500
    assert emu.faults() == []
    assert get(emu, "x", "/2/users/me", headers=bearer(token["access_token"])).status_code == 200


def test_faults_match_account_and_path_and_spare_oauth_pages(emu):
    _account, token = x_connect(emu)
    emu.fault("x", "server_error", account_id="999")  # someone else
    emu.fault("x", "rate_limit", path="/2/tweets")
    assert get(emu, "x", "/2/users/me", headers=bearer(token["access_token"])).status_code == 200
    _verifier, challenge = pkce()
    assert x_authorize(emu, challenge).status_code == 302  # authorize pages never fault
    assert tweet(emu, token["access_token"], "first").status_code == 429
    assert [f["account_id"] for f in emu.faults()] == ["999"]


def test_clock_moves_forward_only(emu):
    before = datetime.fromisoformat(emu.state()["now"])
    after = datetime.fromisoformat(emu.advance_clock(86400))
    assert 86400 <= (after - before).total_seconds() < 86460


@pytest.mark.parametrize(
    ("network", "path", "check"),
    [
        ("linkedin", "/rest/nothing", lambda r: r.json()["status"] == 404),
        ("x", "/2/nothing", lambda r: r.json()["title"] == "Not Found Error"),
        ("facebook", "/nothing/at/all", lambda r: r.json()["error"]["type"] == "OAuthException"),
    ],
)
def test_unknown_paths_are_404_in_the_network_format(emu, network, path, check):
    response = get(emu, network, path)
    assert response.status_code == 404 and "json" in response.headers["Content-Type"] and check(response)


# --- OAuth: LinkedIn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        {"client_id": "unknown"},
        {"redirect_uri": "http://evil.test/callback"},
        {"response_type": "token"},
        {"state": ""},
        {"scope": "openid,profile"},
    ],
)
def test_linkedin_authorize_refuses_invalid_requests_without_redirecting(emu, override):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT])
    params = {
        "response_type": "code",
        "client_id": "li-app",
        "redirect_uri": REDIRECT,
        "state": "s",
        "scope": LI_SCOPES,
    }
    response = get(emu, "linkedin", "/oauth/v2/authorization", params={**params, **override})
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


def test_linkedin_consent_page_allows_and_denies(emu):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT])
    account = emu.create_account("linkedin", "Ada Lovelace")
    params = {
        "response_type": "code",
        "client_id": "li-app",
        "redirect_uri": REDIRECT,
        "state": "s9",
        "scope": LI_SCOPES,
    }
    page = get(emu, "linkedin", "/oauth/v2/authorization", params=params)
    assert page.status_code == 200 and "<select" in page.text and 'value="allow"' in page.text
    assert 'value="deny"' in page.text and "/_emulator/ui/accounts" in page.text
    allowed = post(
        emu, "linkedin", "/oauth/v2/authorization", data={**params, "decision": "allow", "account_id": account["id"]}
    )
    assert query_of(allowed)["state"] == "s9" and query_of(allowed)["code"]
    denied = post(emu, "linkedin", "/oauth/v2/authorization", data={**params, "decision": "deny"})
    assert query_of(denied) == {
        "error": "access_denied",
        "error_description": query_of(denied)["error_description"],
        "state": "s9",
    }


def test_consent_page_can_create_an_account_and_come_back(emu):
    emu.register_app("x", "x-app", "x-secret", [REDIRECT])
    page = x_authorize(emu, pkce()[1])
    assert page.status_code == 200 and "No account yet" in page.text
    back = re.search(r'name="next" value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    form = {"network": "x", "name": "New Person", "next": back}
    created = requests.post(emu.url + "/_emulator/ui/accounts", data=form, allow_redirects=False, timeout=5)
    assert created.status_code == 302 and created.headers["Location"] == back
    again = requests.get(emu.url + back, timeout=5)
    assert "New Person" in again.text and 'value="allow"' in again.text


def test_auto_approve_deny_redirects_with_access_denied(emu):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT])
    emu.auto_approve("linkedin", None, deny=True)
    params = {
        "response_type": "code",
        "client_id": "li-app",
        "redirect_uri": REDIRECT,
        "state": "s2",
        "scope": LI_SCOPES,
    }
    query = query_of(get(emu, "linkedin", "/oauth/v2/authorization", params=params))
    assert query["error"] == "access_denied" and query["state"] == "s2" and query["error_description"]


def test_linkedin_analytics_scope_is_unauthorized_for_ordinary_apps(emu):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT])
    emu.auto_approve("linkedin", emu.create_account("linkedin", "Ada")["id"])
    params = {"response_type": "code", "client_id": "li-app", "redirect_uri": REDIRECT, "state": "s"}
    response = get(emu, "linkedin", "/oauth/v2/authorization", params={**params, "scope": "openid r_member_social"})
    assert query_of(response)["error"] == "unauthorized_scope_error"


def test_linkedin_codes_are_single_use_bound_and_short_lived(emu):
    emu.register_app("linkedin", "li-app", "li-secret", [REDIRECT, "http://app.test/other"])
    emu.auto_approve("linkedin", emu.create_account("linkedin", "Ada")["id"])
    code = li_code(emu)
    assert li_exchange(emu, code, client_secret="wrong").json()["error"] == "invalid_client"
    assert li_exchange(emu, code, redirect_uri="http://app.test/other").json()["error"] == "invalid_request"
    assert li_exchange(emu, code).status_code == 200
    replay = li_exchange(emu, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"
    late = li_code(emu)
    emu.advance_clock(601)
    assert li_exchange(emu, late).status_code == 400


def test_linkedin_token_response_and_id_token(emu):
    account, token = li_connect(emu)
    assert token["expires_in"] == 5184000 and "refresh_token" not in token
    assert set(token["scope"].split(",")) == set(LI_SCOPES.split())
    _header, payload, signature = token["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == account["id"] and claims["aud"] == "li-app" and signature == ""


def test_linkedin_partner_refresh_keeps_the_first_consent_deadline(emu):
    _account, token = li_connect(emu, partner=True)
    assert token["refresh_token_expires_in"] == 365 * 86400
    emu.advance_clock(10 * 86400)
    data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "li-app"}
    refreshed = post(emu, "linkedin", "/oauth/v2/accessToken", data={**data, "client_secret": "li-secret"}).json()
    assert refreshed["access_token"] != token["access_token"] and refreshed["expires_in"] == 5184000
    assert 355 * 86400 - 60 <= refreshed["refresh_token_expires_in"] <= 355 * 86400


def test_linkedin_userinfo(emu):
    account, token = li_connect(emu)
    response = get(emu, "linkedin", "/v2/userinfo", headers=bearer(token["access_token"]))
    assert response.headers["Content-Type"] == "application/json"
    info = response.json()
    assert info["sub"] == account["id"] and info["name"] == "Ada Lovelace"
    assert (info["given_name"], info["family_name"]) == ("Ada", "Lovelace")
    assert info["locale"] == {"country": "US", "language": "en"} and info["email_verified"] is True


def test_linkedin_token_errors(emu):
    _account, token = li_connect(emu)
    assert get(emu, "linkedin", "/v2/userinfo").json()["serviceErrorCode"] == 65604
    assert get(emu, "linkedin", "/v2/userinfo", headers=bearer("nope")).json()["code"] == "INVALID_ACCESS_TOKEN"
    emu.advance_clock(5184000)
    expired = get(emu, "linkedin", "/v2/userinfo", headers=bearer(token["access_token"]))
    assert expired.status_code == 401 and expired.json()["serviceErrorCode"] == 65600


def test_linkedin_revoked_fault_revokes_for_good(emu):
    account, token = li_connect(emu)
    emu.fault("linkedin", "revoked", account_id=account["id"])
    for _ in range(2):
        response = get(emu, "linkedin", "/v2/userinfo", headers=bearer(token["access_token"]))
        assert response.status_code == 401 and response.json()["serviceErrorCode"] == 65601
        assert response.json()["code"] == "REVOKED_ACCESS_TOKEN"


def test_linkedin_expire_token_fault_then_partner_refresh_works(emu):
    account, token = li_connect(emu, partner=True)
    emu.fault("linkedin", "expire_token", account_id=account["id"])
    assert get(emu, "linkedin", "/v2/userinfo", headers=bearer(token["access_token"])).json()["code"] == (
        "INVALID_ACCESS_TOKEN"
    )
    data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "li-app"}
    fresh = post(emu, "linkedin", "/oauth/v2/accessToken", data={**data, "client_secret": "li-secret"}).json()
    assert get(emu, "linkedin", "/v2/userinfo", headers=bearer(fresh["access_token"])).status_code == 200


# --- API: LinkedIn ----------------------------------------------------------------------------------


def test_linkedin_publish_answers_201_with_empty_body_and_the_urn(emu):
    account, token = li_connect(emu)
    response = li_publish(emu, token["access_token"], account, "Launch \\(v2\\) today")
    assert response.status_code == 201 and response.content == b""
    urn = response.headers["x-restli-id"]
    assert re.fullmatch(r"urn:li:share:\d{19}", urn)
    [stored] = emu.state()["posts"]
    assert (stored["id"], stored["author"], stored["text"]) == (urn, account["id"], "Launch (v2) today")


def test_linkedin_unescaped_little_text_is_cut_like_on_linkedin(emu):
    account, token = li_connect(emu)
    li_publish(emu, token["access_token"], account, "Launch (v2) today")
    assert emu.state()["posts"][0]["text"] == "Launch "


def test_linkedin_little_text_hashtags_and_mentions(emu):
    account, token = li_connect(emu)
    raw = r"Go {hashtag|\#|AcmeEmployee} and #Wind with @[Acme](urn:li:organization:1) \#1 \(c\) {hashtag|#|Sea}"
    assert li_publish(emu, token["access_token"], account, raw).status_code == 201
    [stored] = emu.state()["posts"]
    assert stored["raw"] == raw
    assert stored["text"] == "Go #AcmeEmployee and #Wind with Acme #1 (c) #Sea"
    assert stored["extra"]["hashtags"] == ["AcmeEmployee", "Wind", "Sea"]


def test_linkedin_article_card_is_kept_as_sent(emu):
    account, token = li_connect(emu)
    article = {"source": "https://example.com/a", "title": "A title", "description": "What it is about"}
    li_publish(emu, token["access_token"], account, content={"article": article})
    assert emu.state()["posts"][0]["extra"]["content"] == {"article": article}
    bad = {"article": {**article, "description": 42}}
    response = li_publish(emu, token["access_token"], account, "Another", content=bad)
    assert response.status_code == 422 and "/content/article/description" in response.json()["message"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"LinkedIn-Version": None}, 400, "VERSION_MISSING"),
        ({"LinkedIn-Version": "202301"}, 426, "NONEXISTENT_VERSION"),
        ({"LinkedIn-Version": "2026-11"}, 426, "NONEXISTENT_VERSION"),
        ({"X-Restli-Protocol-Version": None}, 400, None),
        ({"Content-Type": "text/plain"}, 415, None),
    ],
)
def test_linkedin_publish_requires_its_headers(emu, headers, status, code):
    account, token = li_connect(emu)
    merged = li_headers(emu, token["access_token"], **{"Content-Type": "application/json", **headers})
    body = json.dumps(li_body(account))
    response = post(emu, "linkedin", "/rest/posts", headers={k: v for k, v in merged.items() if v}, data=body)
    assert response.status_code == status and response.json()["status"] == status
    if code:
        assert response.json()["code"] == code
    if status == 426:
        assert (
            "is not active" in response.json()["message"]
            and headers["LinkedIn-Version"] in (response.json()["message"])
        )


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"author": "urn:li:person:someoneElse"}, 403),
        ({"visibility": "FRIENDS"}, 422),
        ({"lifecycleState": "DRAFT"}, 422),
        ({"distribution": {"feedDistribution": "NONE"}}, 422),
        ({"commentary": "x" * 3001}, 422),
        ({"surprise": True}, 422),
        ({"content": {"article": {"title": "No source"}}}, 422),
    ],
)
def test_linkedin_publish_refuses_bad_posts(emu, change, status):
    account, token = li_connect(emu)
    body = {**li_body(account), **change}
    response = post(emu, "linkedin", "/rest/posts", headers=li_headers(emu, token["access_token"]), json=body)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["code"] == "ACCESS_DENIED"
    assert emu.state()["posts"] == []


def test_linkedin_duplicate_commentary_within_24_hours(emu):
    account, token = li_connect(emu)
    first = li_publish(emu, token["access_token"], account, "Same words").headers["x-restli-id"]
    again = li_publish(emu, token["access_token"], account, "Same words")
    assert again.status_code == 422 and again.json()["message"] == f"Content is a duplicate of {first}"
    emu.advance_clock(86401)
    assert li_publish(emu, token["access_token"], account, "Same words").status_code == 201


def test_linkedin_metrics_are_forbidden_to_ordinary_apps(emu):
    account, token = li_connect(emu)
    urn = li_publish(emu, token["access_token"], account).headers["x-restli-id"]
    headers = li_headers(emu, token["access_token"])
    meta = get(emu, "linkedin", f"/rest/socialMetadata/{quote(urn, safe='')}", headers=headers)
    assert meta.status_code == 403 and meta.json()["code"] == "ACCESS_DENIED"
    path = f"/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{quote(urn, safe='')})&queryType=IMPRESSION"
    assert get(emu, "linkedin", path + "&aggregation=TOTAL", headers=headers).status_code == 403


def test_linkedin_partner_metrics_grow_with_the_clock(emu):
    account, token = li_connect(emu, partner=True)
    urn = li_publish(emu, token["access_token"], account).headers["x-restli-id"]
    headers = li_headers(emu, token["access_token"])
    path = f"/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{quote(urn, safe='')})&aggregation=TOTAL"

    def impressions():
        body = get(emu, "linkedin", path + "&queryType=IMPRESSION", headers=headers).json()
        [element] = body["elements"]
        assert element["targetEntity"] == {"share": urn} and "IMPRESSION" in element["metricType"].values()
        return element["count"]

    start = impressions()
    emu.advance_clock(6 * 3600)
    middle = impressions()
    emu.advance_clock(3 * 86400)
    assert start < middle < impressions()
    meta = get(emu, "linkedin", f"/rest/socialMetadata/{quote(urn, safe='')}", headers=headers).json()
    assert meta["reactionSummaries"]["LIKE"]["count"] > 0 and meta["commentSummary"]["count"] >= 0


def test_linkedin_urns_must_be_encoded(emu):
    account, token = li_connect(emu, partner=True)
    urn = li_publish(emu, token["access_token"], account).headers["x-restli-id"]
    headers = li_headers(emu, token["access_token"])
    assert get(emu, "linkedin", f"/rest/socialMetadata/{urn}", headers=headers).status_code == 400
    path = f"/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{urn})&queryType=IMPRESSION&aggregation=TOTAL"
    assert get(emu, "linkedin", path, headers=headers).status_code == 400


def test_linkedin_rate_limit_fault_has_no_reset_header(emu):
    account, token = li_connect(emu)
    emu.fault("linkedin", "rate_limit")
    response = li_publish(emu, token["access_token"], account)
    assert response.status_code == 429 and response.json()["status"] == 429
    assert response.json()["serviceErrorCode"] == 101 and response.json()["code"] == "TOO_MANY_REQUESTS"
    assert "DAY" not in response.json()["message"], "a short throttle, not the daily limit"
    assert not any(name.lower().startswith(("x-rate-limit", "retry-after")) for name in response.headers)
    assert li_publish(emu, token["access_token"], account).status_code == 201


def test_linkedin_daily_post_limit_says_so_and_resets_at_midnight_utc(emu):
    account, token = li_connect(emu)
    for n in range(150):
        assert li_publish(emu, token["access_token"], account, f"Post {n}").status_code == 201
    response = li_publish(emu, token["access_token"], account, "One too many")
    assert response.status_code == 429
    message = response.json()["message"]
    assert message == "Resource level throttle MEMBER DAY limit for calls to this resource is reached."
    assert not any(name.lower().startswith(("x-rate-limit", "retry-after")) for name in response.headers)
    now = datetime.fromisoformat(emu.state()["now"])
    emu.advance_clock(86400 - (now.hour * 3600 + now.minute * 60 + now.second) + 1)  # just past midnight UTC
    assert li_publish(emu, token["access_token"], account, "A new day").status_code == 201


def test_linkedin_delete_post(emu):
    account, token = li_connect(emu)
    urn = li_publish(emu, token["access_token"], account).headers["x-restli-id"]
    path = f"/rest/posts/{quote(urn, safe='')}"
    response = requests.delete(emu.origin("linkedin") + path, headers=li_headers(emu, token["access_token"]), timeout=5)
    assert response.status_code == 204 and emu.state()["posts"][0]["deleted"] is True


# --- OAuth: X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"state": None},
        {"scope": "tweet.read,users.read"},
        {"scope": "tweet.read nonsense.scope"},
        {"redirect_uri": "http://app.test/elsewhere"},
    ],
)
def test_x_authorize_requires_pkce_s256_and_valid_parameters(emu, override):
    emu.register_app("x", "x-app", "x-secret", [REDIRECT])
    emu.auto_approve("x", emu.create_account("x", "Grace")["id"])
    response = x_authorize(emu, pkce()[1], **override)
    assert response.status_code == 400 and "Location" not in response.headers


def test_x_code_exchange_checks_the_pkce_verifier_and_spends_the_code(emu):
    emu.register_app("x", "x-app", "x-secret", [REDIRECT])
    emu.auto_approve("x", emu.create_account("x", "Grace")["id"])
    verifier, challenge = pkce()
    code = query_of(x_authorize(emu, challenge))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "x-app"}
    wrong = x_token(emu, {**data, "code_verifier": pkce()[0]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
    assert x_token(emu, {**data, "code_verifier": verifier}).status_code == 400  # already spent
    missing = x_token(emu, data)
    assert missing.status_code == 400 and "code_verifier" in missing.json()["error_description"]


def test_x_confidential_clients_must_authenticate_with_basic(emu):
    emu.register_app("x", "x-app", "x-secret", [REDIRECT])
    emu.auto_approve("x", emu.create_account("x", "Grace")["id"])
    verifier, challenge = pkce()
    code = query_of(x_authorize(emu, challenge))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    for secret in (None, "wrong"):
        refused = x_token(emu, {**data, "client_id": "x-app"}, secret)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized_client"
    assert x_token(emu, {**data, "client_id": "x-app"}).status_code == 200


def test_x_public_client_sends_client_id_in_the_body(emu):
    _account, token = x_connect(emu, secret="")
    assert token["token_type"] == "bearer" and token["expires_in"] == 7200


def test_x_refresh_tokens_rotate_and_a_spent_one_is_refused(emu):
    _account, token = x_connect(emu)
    assert set(token["scope"].split()) == set(X_SCOPES.split()) and token["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "x-app"}
    fresh = x_token(emu, data).json()
    assert fresh["refresh_token"] != token["refresh_token"] and fresh["access_token"] != token["access_token"]
    reuse = x_token(emu, data)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_request"
    again = x_token(emu, {**data, "refresh_token": fresh["refresh_token"]})
    assert again.status_code == 200
    spent = [t for t in emu.state()["tokens"] if t["kind"] == "refresh" and t["spent"]]
    assert len(spent) == 2


def test_x_no_refresh_token_without_offline_access(emu):
    _account, token = x_connect(emu, scope="tweet.read tweet.write users.read")
    assert "refresh_token" not in token


def test_x_access_tokens_last_two_hours(emu):
    account, token = x_connect(emu)
    headers = bearer(token["access_token"])
    me = get(emu, "x", "/2/users/me", headers=headers)
    assert me.json() == {"data": {"id": account["id"], "name": "Grace Hopper", "username": "grace"}}
    emu.advance_clock(7201)
    expired = get(emu, "x", "/2/users/me", headers=headers)
    assert expired.status_code == 401 and expired.headers["Content-Type"] == "application/problem+json"
    assert expired.json()["title"] == "Unauthorized"


# --- API: X ---------------------------------------------------------------------------------------------


def test_x_post_tweet_answers_201_with_rate_limit_headers(emu):
    _account, token = x_connect(emu)
    response = tweet(emu, token["access_token"], "Read this https://acme.test/a/very/long/path?utm_source=x")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["id"].isdigit() and re.fullmatch(r"Read this https://t\.co/\w{10}", data["text"])
    for name in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset", "x-user-limit-24hour-remaining"):
        assert response.headers[name].isdigit()
    assert emu.state()["posts"][0]["text"].endswith("utm_source=x")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 280, True),
        ("a" * 281, False),
        ("漢" * 140, True),
        ("漢" * 141, False),
        ("https://acme.test/" + "p" * 300 + " " + "a" * 256, True),
        ("https://acme.test/x " + "a" * 257, False),
        ("e\u0301" * 140, True),  # NFC: one code point each
    ],
)
def test_x_weighted_length(emu, text, accepted):
    _account, token = x_connect(emu)
    response = tweet(emu, token["access_token"], text)
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403 and "too long" in response.json()["detail"]


def test_x_duplicate_text_is_refused_until_the_first_is_deleted(emu):
    _account, token = x_connect(emu)
    first = tweet(emu, token["access_token"], "Same words").json()["data"]["id"]
    emu.advance_clock(30 * 86400)
    token = x_refresh(emu, token)  # access tokens last 2 hours
    duplicate = tweet(emu, token["access_token"], "Same words")
    assert duplicate.status_code == 403
    assert duplicate.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."
    deleted = requests.delete(f"{emu.origin('x')}/2/tweets/{first}", headers=bearer(token["access_token"]), timeout=5)
    assert deleted.json() == {"data": {"deleted": True}}
    assert tweet(emu, token["access_token"], "Same words").status_code == 201


def test_x_lookup_lists_missing_ids_under_errors_and_metrics_grow(emu):
    _account, token = x_connect(emu)
    tweet_id = tweet(emu, token["access_token"], "Counting").json()["data"]["id"]
    emu.advance_clock(4 * 3600)
    token = x_refresh(emu, token)
    headers = bearer(token["access_token"])
    params = {"ids": f"{tweet_id},1234567890", "tweet.fields": "public_metrics"}
    body = get(emu, "x", "/2/tweets", headers=headers, params=params).json()
    first = body["data"][0]["public_metrics"]
    assert set(first) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }
    [missing] = body["errors"]
    assert missing["title"] == "Not Found Error" and missing["resource_id"] == "1234567890"
    emu.advance_clock(2 * 86400)
    headers = bearer(x_refresh(emu, token)["access_token"])
    later = get(emu, "x", "/2/tweets", headers=headers, params=params).json()["data"][0]["public_metrics"]
    assert later["impression_count"] > first["impression_count"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"ids": ",".join(str(10**10 + i) for i in range(101))},
        {"ids": "abc"},
        {"ids": "1", "tweet.fields": "public_metrics,fame"},
        {"ids": "1", "surprise": "yes"},
        {},
    ],
)
def test_x_lookup_refuses_bad_queries(emu, params):
    _account, token = x_connect(emu)
    response = get(emu, "x", "/2/tweets", headers=bearer(token["access_token"]), params=params)
    assert response.status_code == 400 and response.json()["title"] == "Invalid Request"


def test_x_cannot_delete_someone_elses_tweet(emu):
    _account, token = x_connect(emu)
    tweet_id = tweet(emu, token["access_token"], "Mine").json()["data"]["id"]
    other = emu.create_account("x", "Mallory")
    emu.auto_approve("x", other["id"])
    verifier, challenge = pkce()
    code = query_of(x_authorize(emu, challenge))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    mallory = x_token(emu, data).json()["access_token"]
    response = requests.delete(f"{emu.origin('x')}/2/tweets/{tweet_id}", headers=bearer(mallory), timeout=5)
    assert response.status_code == 403 and emu.state()["posts"][0]["deleted"] is False


def test_x_rate_limit_fault_resets_on_the_emulator_clock(emu):
    _account, token = x_connect(emu)
    emu.advance_clock(1000)
    emu.fault("x", "rate_limit", reset_in=600)
    response = tweet(emu, token["access_token"], "hello")
    assert response.status_code == 429 and response.json()["title"] == "Too Many Requests"
    now = datetime.fromisoformat(emu.state()["now"]).timestamp()
    assert abs(int(response.headers["x-rate-limit-reset"]) - (now + 600)) < 5
    assert response.headers["x-rate-limit-remaining"] == "0"


def test_x_natural_post_limit_per_15_minutes(emu):
    _account, token = x_connect(emu)
    session = requests.Session()
    statuses = [
        session.post(f"{emu.origin('x')}/2/tweets", headers=bearer(token["access_token"]), json={"text": f"n{i}"})
        for i in range(101)
    ]
    assert [r.status_code for r in statuses].count(201) == 100 and statuses[-1].status_code == 429
    emu.advance_clock(901)
    token = x_refresh(emu, token)
    assert tweet(emu, token["access_token"], "after the window").status_code == 201
    emu.settings(rate_limits=False)
    assert all(tweet(emu, token["access_token"], f"m{i}").status_code == 201 for i in range(101))


# --- Facebook -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope", ["pages_show_list pages_manage_posts", "pages_show_list, pages_manage_posts", "pages_show_list,fame"]
)
def test_facebook_login_wants_comma_separated_known_scopes(emu, scope):
    emu.register_app("facebook", "fb-app", "fb-secret", [REDIRECT])
    params = {"client_id": "fb-app", "redirect_uri": REDIRECT, "state": "s1", "scope": scope}
    assert get(emu, "facebook", "/v24.0/dialog/oauth", params=params).status_code == 400


def test_facebook_login_redirect_and_code_exchange(emu):
    emu.register_app("facebook", "fb-app", "fb-secret", [REDIRECT])
    emu.auto_approve("facebook", emu.create_account("facebook", "Alan Turing")["id"])
    params = {"client_id": "fb-app", "redirect_uri": REDIRECT, "state": "s1", "scope": FB_SCOPES}
    response = get(emu, "facebook", "/v24.0/dialog/oauth", params=params)
    assert response.headers["Location"].endswith("#_=_")
    code = query_of(response)["code"]
    exchange = {"client_id": "fb-app", "redirect_uri": REDIRECT, "client_secret": "fb-secret", "code": code}
    wrong = get(emu, "facebook", "/v21.0/oauth/access_token", params={**exchange, "client_secret": "nope"})
    assert fb_error(wrong)["message"] == "Error validating client secret."
    token = get(emu, "facebook", "/v21.0/oauth/access_token", params=exchange).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    used = get(emu, "facebook", "/v21.0/oauth/access_token", params=exchange)
    assert used.status_code == 400 and fb_error(used)["error_subcode"] == 36009
    long = {"grant_type": "fb_exchange_token", "client_id": "fb-app", "client_secret": "fb-secret"}
    lived = get(
        emu, "facebook", "/v24.0/oauth/access_token", params={**long, "fb_exchange_token": token["access_token"]}
    )
    assert lived.json()["expires_in"] == 5183944


def test_facebook_page_tokens_outlive_the_long_lived_user_token(emu):
    _account, user_token, page_token = fb_connect(emu)
    accounts = get(emu, "facebook", "/v24.0/me/accounts", params={"access_token": user_token}).json()
    [page] = accounts["data"]
    assert page["id"] == "1001" and page["tasks"] == ["CREATE_CONTENT", "MODERATE"] and page["access_token"]
    emu.advance_clock(61 * 86400)
    expired = get(emu, "facebook", "/v24.0/me", params={"access_token": user_token})
    assert (fb_error(expired)["code"], fb_error(expired)["error_subcode"]) == (190, 463)
    me = get(emu, "facebook", "/v24.0/me", params={"access_token": page_token}).json()
    assert me == {"id": "1001", "name": "Acme"}


def test_facebook_page_token_from_a_short_lived_user_token_expires_with_it(emu):
    _account, _user_token, page_token = fb_connect(emu, long_lived=False)
    emu.advance_clock(3601)
    assert fb_error(fb_publish(emu, page_token))["error_subcode"] == 463


def test_facebook_posting_needs_that_pages_token_and_create_content(emu):
    _, user_token, _ = fb_connect(emu)
    with_user_token = fb_publish(emu, user_token)
    assert with_user_token.status_code == 403 and fb_error(with_user_token)["code"] == 200
    assert "pages_manage_posts" in fb_error(with_user_token)["message"]
    emu.reset()
    _, _, page_token = fb_connect(emu, tasks=("ANALYZE",))
    assert fb_error(fb_publish(emu, page_token))["code"] == 200
    assert emu.state()["posts"] == []


def test_facebook_publish_and_read_engagement(emu):
    _account, user_token, page_token = fb_connect(emu)
    response = fb_publish(emu, page_token)
    post_id = response.json()["id"]
    assert re.fullmatch(r"1001_\d+", post_id)
    usage = json.loads(response.headers["X-App-Usage"])
    assert set(usage) == {"call_count", "total_cputime", "total_time"}
    fields = "shares,reactions.summary(total_count),comments.summary(true)"
    fresh = get(emu, "facebook", f"/v24.0/{post_id}", params={"fields": fields, "access_token": page_token}).json()
    assert "shares" not in fresh and fresh["reactions"]["summary"]["total_count"] == 0
    emu.advance_clock(3 * 86400)
    later = get(emu, "facebook", f"/v24.0/{post_id}", params={"fields": fields, "access_token": page_token}).json()
    assert later["reactions"]["summary"]["total_count"] > 0 and later["comments"]["summary"]["total_count"] >= 0
    assert later.get("shares", {"count": 1})["count"] > 0
    with_user_token = get(emu, "facebook", f"/v24.0/{post_id}", params={"fields": fields, "access_token": user_token})
    assert fb_error(with_user_token)["code"] == 10


def test_facebook_duplicate_within_24_hours_is_code_506(emu):
    _account, _user_token, page_token = fb_connect(emu)
    assert fb_publish(emu, page_token).status_code == 200
    assert fb_error(fb_publish(emu, page_token))["code"] == 506
    assert fb_publish(emu, page_token, link="https://acme.test/other").status_code == 200


def test_facebook_delete_then_the_post_is_gone(emu):
    _account, _user_token, page_token = fb_connect(emu)
    post_id = fb_publish(emu, page_token).json()["id"]
    deleted = requests.delete(f"{emu.origin('facebook')}/v24.0/{post_id}", params={"access_token": page_token})
    assert deleted.json() == {"success": True}
    gone = get(emu, "facebook", f"/v24.0/{post_id}", params={"access_token": page_token})
    assert (fb_error(gone)["code"], fb_error(gone)["error_subcode"]) == (100, 33)


def test_facebook_token_errors(emu):
    account, user_token, page_token = fb_connect(emu)
    assert fb_error(get(emu, "facebook", "/v24.0/me"))["code"] == 2500
    emu.fault("facebook", "revoked", account_id=account["id"])
    revoked = get(emu, "facebook", "/v24.0/me", params={"access_token": user_token})
    assert revoked.status_code == 400 and (fb_error(revoked)["code"], fb_error(revoked)["error_subcode"]) == (190, 460)
    assert fb_error(fb_publish(emu, page_token))["error_subcode"] == 460  # the Page token too


def test_facebook_rate_limit_fault_is_http_400_with_usage_headers(emu):
    _account, _user_token, page_token = fb_connect(emu)
    emu.fault("facebook", "rate_limit", code=32, reset_in=300)
    response = fb_publish(emu, page_token)
    assert response.status_code == 400 and fb_error(response)["code"] == 32
    business = json.loads(response.headers["X-Business-Use-Case-Usage"])
    assert business["1001"][0]["estimated_time_to_regain_access"] == 5
    assert json.loads(response.headers["X-App-Usage"])["call_count"] == 100


def test_facebook_share_dialogs_record_an_assisted_share(emu):
    emu.register_app("facebook", "fb-app", "fb-secret", [REDIRECT])
    params = {"app_id": "fb-app", "display": "page", "href": "https://acme.test/r/abc", "redirect_uri": REDIRECT}
    dialog = get(emu, "facebook", "/dialog/share", params=params)
    assert dialog.status_code == 200 and "https://acme.test/r/abc" in dialog.text
    assert get(emu, "facebook", "/sharer/sharer.php", params={"u": "https://acme.test/r/def"}).status_code == 200
    assert get(emu, "facebook", "/dialog/share", params={**params, "app_id": "nope"}).status_code == 400
    assert [s["url"] for s in emu.state()["shares"]] == ["https://acme.test/r/abc", "https://acme.test/r/def"]


# --- faults across the networks ------------------------------------------------------------------


def test_lost_response_performs_the_request_then_drops_the_connection(emu):
    _account, token = x_connect(emu)
    emu.fault("x", "lost_response", path="/2/tweets")
    with pytest.raises(requests.ConnectionError):
        tweet(emu, token["access_token"], "Did it go out?")
    [stored] = emu.state()["posts"]
    assert stored["text"] == "Did it go out?"
    assert tweet(emu, token["access_token"], "Did it go out?").status_code == 403  # it did: a duplicate now


def test_slow_fault_delays_the_answer(emu):
    _account, token = x_connect(emu)
    emu.fault("x", "slow", delay=0.6)
    with pytest.raises(requests.Timeout):
        requests.get(emu.origin("x") + "/2/users/me", headers=bearer(token["access_token"]), timeout=0.2)
    assert get(emu, "x", "/2/users/me", headers=bearer(token["access_token"])).status_code == 200


def test_server_error_fault_in_each_networks_format(emu):
    account, token = li_connect(emu)
    _x_account, x_tok = x_connect(emu)
    for network in ("linkedin", "x"):
        emu.fault(network, "server_error")
    assert li_publish(emu, token["access_token"], account).json()["status"] == 500
    x_response = get(emu, "x", "/2/users/me", headers=bearer(x_tok["access_token"]))
    assert x_response.status_code == 500 and x_response.json()["status"] == 500
    _fb_account, _user_token, page_token = fb_connect(emu)
    emu.fault("facebook", "server_error")
    fb_response = fb_publish(emu, page_token)
    assert fb_response.status_code == 500 and fb_error(fb_response)["is_transient"] is True
    assert all(p["network"] != "facebook" for p in emu.state()["posts"])


def test_forbidden_fault_refuses_the_call_in_each_networks_format_and_changes_nothing(emu):
    account, token = li_connect(emu)
    _x_account, x_tok = x_connect(emu)
    _fb_account, _user_token, page_token = fb_connect(emu)
    for network in ("linkedin", "x", "facebook"):
        emu.fault(network, "forbidden")
    li = li_publish(emu, token["access_token"], account)
    assert li.status_code == 403 and li.json()["code"] == "ACCESS_DENIED"
    x = get(emu, "x", "/2/users/me", headers=bearer(x_tok["access_token"]))
    assert x.status_code == 403 and x.json()["type"].endswith("/problems/client-forbidden")
    fb = fb_publish(emu, page_token)
    assert fb.status_code == 403 and fb_error(fb)["code"] == 200
    assert emu.state()["posts"] == [] and emu.faults() == []


def test_duplicate_fault_refuses_the_next_publish_in_each_format(emu):
    account, token = li_connect(emu)
    _x_account, x_tok = x_connect(emu)
    _fb_account, _user_token, page_token = fb_connect(emu)
    for network in ("linkedin", "x", "facebook"):
        emu.fault(network, "duplicate")
    assert get(emu, "x", "/2/users/me", headers=bearer(x_tok["access_token"])).status_code == 200  # not a publish
    assert li_publish(emu, token["access_token"], account).json()["message"].startswith("Content is a duplicate of")
    assert "duplicate content" in tweet(emu, x_tok["access_token"], "fresh words").json()["detail"]
    assert fb_error(fb_publish(emu, page_token))["code"] == 506
    assert emu.state()["posts"] == [] and emu.faults() == []


def test_expire_token_fault_on_x_is_fixed_by_a_refresh(emu):
    account, token = x_connect(emu)
    emu.fault("x", "expire_token", account_id=account["id"])
    assert tweet(emu, token["access_token"], "hi").status_code == 401
    data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": "x-app"}
    fresh = x_token(emu, data).json()
    assert tweet(emu, fresh["access_token"], "hi").status_code == 201


# --- reconciliation and assisted shares ------------------------------------------------------------


def test_recent_posts_can_be_found_for_reconciliation(emu):
    account, token = li_connect(emu, partner=True)
    urn = li_publish(emu, token["access_token"], account, "Find me").headers["x-restli-id"]
    author = quote(f"urn:li:person:{account['id']}", safe="")
    found = get(
        emu,
        "linkedin",
        f"/rest/posts?q=author&author={author}&count=10",
        headers=li_headers(emu, token["access_token"]),
    )
    assert [(p["id"], p["commentary"]) for p in found.json()["elements"]] == [(urn, "Find me")]
    x_account, x_tok = x_connect(emu)
    tweet_id = tweet(emu, x_tok["access_token"], "Find me too").json()["data"]["id"]
    timeline = get(emu, "x", f"/2/users/{x_account['id']}/tweets", headers=bearer(x_tok["access_token"])).json()
    assert timeline["data"][0]["id"] == tweet_id and timeline["meta"]["result_count"] == 1
    _fb_account, _user_token, page_token = fb_connect(emu)
    post_id = fb_publish(emu, page_token, "Find me three").json()["id"]
    feed = get(emu, "facebook", "/v24.0/1001/feed", params={"access_token": page_token}).json()
    assert [(p["id"], p["message"]) for p in feed["data"]] == [(post_id, "Find me three")]


def test_facebook_batch_read_and_insights(emu):
    _account, _user_token, page_token = fb_connect(emu, scope=FB_SCOPES + ",read_insights")
    first = fb_publish(emu, page_token, "one").json()["id"]
    second = fb_publish(emu, page_token, "two").json()["id"]
    emu.advance_clock(86400)
    fields = "reactions.summary(total_count),comments.summary(true)"
    both = get(
        emu, "facebook", "/v24.0/", params={"ids": f"{first},{second}", "fields": fields, "access_token": page_token}
    ).json()
    assert set(both) == {first, second} and both[first]["reactions"]["summary"]["total_count"] >= 0
    missing = get(emu, "facebook", "/v24.0/", params={"ids": f"{first},1001_999", "access_token": page_token})
    assert fb_error(missing)["code"] == 803
    metric = {"metric": "post_impressions_unique", "access_token": page_token}
    insights = get(emu, "facebook", f"/v24.0/{first}/insights", params=metric).json()["data"]
    assert insights[0]["name"] == "post_impressions_unique" and insights[0]["values"][0]["value"] > 0
    retired = get(emu, "facebook", f"/v24.0/{first}/insights", params={**metric, "metric": "post_fame"})
    assert fb_error(retired)["code"] == 100


def test_share_intents_on_linkedin_and_x_are_recorded(emu):
    assert get(emu, "linkedin", "/sharing/share-offsite/", params={"url": "https://acme.test/r/1"}).status_code == 200
    assert get(emu, "x", "/intent/tweet", params={"text": "Look", "url": "https://acme.test/r/2"}).status_code == 200
    assert get(emu, "linkedin", "/sharing/share-offsite/", params={"url": "not a url"}).status_code == 400
    shares = [(s["network"], s["url"]) for s in emu.state()["shares"]]
    assert shares == [("linkedin", "https://acme.test/r/1"), ("x", "https://acme.test/r/2")]


def test_the_emulator_takes_a_burst_of_new_connections_as_a_real_api_front_does():
    """Three publish workers of 16 threads connect at once: with socketserver's backlog of 5
    the accept queue overflowed and Linux reset connections whose request was already sent."""
    import socket

    from networks.emulator.server import make_server

    server = make_server(port=0)  # bound and listening, not accepting yet: the worst case
    clients: list[socket.socket] = []
    try:
        port = server.server_address[1]
        for _ in range(100):
            client = socket.create_connection(("127.0.0.1", port), timeout=2)  # a full queue: timeout
            clients.append(client)
        assert len(clients) == 100
    finally:
        for client in clients:
            client.close()
        server.server_close()


def test_an_authors_posts_come_from_the_index_newest_first_and_only_theirs():
    """`State.posts_by`, which every publish reads for the duplicate check, keeps to one
    author of one network (the same id on two networks is two authors), newest first, and
    a post stored again under its id is listed once."""
    from networks.emulator.state import Post, State

    store = State()
    made = [
        store.add_post(Post(network, f"{network}-{n}", author, author, str(n), None, n, "app"))
        for n, (network, author) in enumerate([("x", "1"), ("x", "2"), ("x", "1"), ("linkedin", "1"), ("x", "1")])
    ]
    store.add_post(made[2])  # the same post again (an edit keeps its id)
    assert [p.id for p in store.posts_by("x", "1")] == ["x-4", "x-2", "x-0"]
    assert [p.id for p in store.posts_by("x", "2")] == ["x-1"]
    assert [p.id for p in store.posts_by("linkedin", "1")] == ["linkedin-3"]
    assert store.posts_by("facebook", "1") == []

    again = State()
    again.load(store.dump())
    assert [p.id for p in again.posts_by("x", "1")] == ["x-4", "x-2", "x-0"]
