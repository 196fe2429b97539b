"""Sign-in: the users file and ``c2c users``, and an app with users over real HTTP.

The app with sign-in runs as ``c2c serve`` in its own process (see tests/auth_servers.py) with
``C2C_PROXIES=1``, so each test can come from its own client address (X-Forwarded-For) and the
sign-in limits of one test do not reach another.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.cli import main
from core.users import Users
from dashapp.auth import LOGIN, LOGOUT, safe_next
from tests.auth_servers import USERS, serving, sign_in_env
from tests.servers import ROOT, free_port, wait_for_page

PASSWORD = USERS["ana"]
BROWSER_PAGES = {"/", "/<path:path>"}  # Dash's index: the pages people open
PUBLIC_ENDPOINTS = {LOGIN, LOGOUT, "/_favicon.ico"}  # the sign-in page, its icon, signing out


def c2c(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """The real ``c2c`` in a new session: no terminal, so getpass reads standard input."""
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env or os.environ, timeout=120,
                          start_new_session=True)


def one_line_error(err: str, shown: str) -> bool:
    return err.startswith("c2c: error: ") and err.count("\n") == 1 and shown in err


# -- the users file and c2c users ---------------------------------------------------------------

def test_users_add_list_change_and_remove(tmp_path, capsys):
    path = tmp_path / "private" / "users.json"
    done = c2c("users", "add", "Ana", "--password-stdin", "--file", str(path),
               stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"added user ana to {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    hashed = json.loads(path.read_text())["users"]["ana"]
    assert hashed.startswith("$argon2id$") and PASSWORD not in path.read_text()
    users = Users.read(path)
    assert users.verify("ana", PASSWORD) == users.verify(" ANA ", PASSWORD) == "ana"
    assert users.verify("ana", PASSWORD.upper()) is None

    done = c2c("users", "add", "ana", "--password-stdin", "--file", str(path),
               stdin="a new passphrase\n")
    assert done.stdout == f"changed the password of ana in {path}\n"
    assert Users.read(path).verify("ana", PASSWORD) is None
    assert Users.read(path).verify("ana", "a new passphrase") == "ana"

    Users.read(path).with_password("bea", USERS["bea"]).write(path)
    assert main(["users", "list", "--file", str(path)]) == 0
    assert capsys.readouterr().out == "ana\nbea\n"
    assert main(["users", "remove", "ANA", "--file", str(path)]) == 0
    assert main(["users", "list", "--file", str(path)]) == 0
    assert capsys.readouterr().out == f"removed user ana from {path}\nbea\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_without_password_stdin_the_password_is_asked_twice(tmp_path):
    path = tmp_path / "users.json"
    differ = c2c("users", "add", "ana", "--file", str(path), stdin="first try!\nsecond try\n")
    assert differ.returncode == 2 and "the two passwords differ" in differ.stderr
    assert not path.exists()
    same = c2c("users", "add", "ana", "--file", str(path), stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert same.returncode == 0, same.stderr
    assert Users.read(path).verify("ana", PASSWORD) == "ana"


def test_the_users_file_comes_from_the_environment(tmp_path):
    path = tmp_path / "users.json"
    env = {**os.environ, "C2C_USERS_FILE": str(path)}
    assert c2c("users", "add", "ana", "--password-stdin", stdin=PASSWORD, env=env).returncode == 0
    assert c2c("users", "list", env=env).stdout == "ana\n"
    nowhere = {k: v for k, v in os.environ.items() if k != "C2C_USERS_FILE"}
    done = c2c("users", "list", env=nowhere)
    assert done.returncode == 2 and one_line_error(done.stderr, "C2C_USERS_FILE")


@pytest.mark.parametrize("name", ["bad name", "", "-ana", "a/b", "../ana", "ana:x", "x" * 65,
                                  "zoë", "an\na"])
def test_a_bad_user_name_exits_2_before_asking_for_a_password(tmp_path, capsys, name):
    assert main(["users", "add", "--file", str(tmp_path / "users.json"), "--", name]) == 2
    assert one_line_error(capsys.readouterr().err, "a user name is 1-64 letters")
    assert not (tmp_path / "users.json").exists()


@pytest.mark.parametrize("password", ["", "short", "x" * 1025])
def test_a_too_short_or_too_long_password_is_refused(tmp_path, password):
    done = c2c("users", "add", "ana", "--password-stdin", "--file", str(tmp_path / "u.json"),
               stdin=password + "\n")
    assert done.returncode == 2 and one_line_error(done.stderr, "a password needs 8 to 1,024")


@pytest.mark.parametrize(("command", "shown"), [
    (["users", "list"], "no such users file"),
    (["users", "remove", "ana"], "no such users file"),
])
def test_a_missing_users_file_exits_2(tmp_path, capsys, command, shown):
    assert main([*command, "--file", str(tmp_path / "none.json")]) == 2
    assert one_line_error(capsys.readouterr().err, shown)


def test_removing_an_unknown_user_names_the_users(tmp_path, capsys):
    path = tmp_path / "u.json"
    Users().with_password("ana", PASSWORD).write(path)
    assert main(["users", "remove", "bob", "--file", str(path)]) == 2
    assert one_line_error(capsys.readouterr().err, "there is no user 'bob' (users: ana)")


@pytest.mark.parametrize(("content", "shown"), [
    ("{", "invalid JSON at line 1"),
    ("[]", "not a users file"),
    ('{"version": 2, "users": {}}', "not a users file"),
    ('{"version": 1, "users": {"ana": "correct horse battery"}}', "not an argon2 hash"),
    ('{"version": 1, "users": {"Ana": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}}',
     "'Ana' is not a user name"),
])
def test_a_broken_users_file_exits_2_with_what_is_wrong(tmp_path, capsys, content, shown):
    path = tmp_path / "users.json"
    path.write_text(content)
    assert main(["users", "list", "--file", str(path)]) == 2
    assert one_line_error(capsys.readouterr().err, shown)


def test_an_unknown_user_costs_a_password_hash_as_a_known_one_does():
    """The failure path hashes a dummy password: no quick answer reveals who exists."""
    users = Users().with_password("ana", PASSWORD)
    users.verify("nobody", PASSWORD)  # the dummy hash is made once
    start = time.perf_counter()
    assert users.verify("nobody", PASSWORD) is None
    assert time.perf_counter() - start > 0.01  # argon2 with 64 MiB; a dict miss takes µs


# -- c2c serve and gunicorn refuse to serve others without sign-in ------------------------------

def test_serving_every_interface_without_users_exits_2(monkeypatch, capsys):
    for name in ("C2C_USERS_FILE", "C2C_ALLOW_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", str(free_port())]) == 2
    assert one_line_error(capsys.readouterr().err, "refusing to serve on 0.0.0.0 without sign-in")


def test_serving_every_interface_anonymously_when_a_proxy_signs_in(tmp_path):
    port = free_port()
    env = {**os.environ, "C2C_ALLOW_ANONYMOUS": "1", "C2C_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("C2C_USERS_FILE", None)
    server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--host", "0.0.0.0",
                               "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_page(f"http://127.0.0.1:{port}/_dash-layout").status_code == 200
    finally:
        server.terminate()
        server.wait(30)


def test_serve_with_a_missing_users_file_exits_2(tmp_path):
    env = {**os.environ, "C2C_USERS_FILE": str(tmp_path / "none.json"),
           "C2C_CACHE_DIR": str(tmp_path / "cache")}
    done = c2c("serve", "--port", str(free_port()), env=env)
    assert done.returncode == 2 and one_line_error(done.stderr, "no such users file")


@pytest.mark.parametrize(("extra", "shown"), [
    ({}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "s3cret"}, "refusing to serve under gunicorn without sign-in"),
])
def test_the_wsgi_module_refuses_to_start(tmp_path, extra, shown):
    clean = {"PATH": os.environ["PATH"], "C2C_CACHE_DIR": str(tmp_path / "cache"), **extra}
    done = subprocess.run([sys.executable, "-c", "import dashapp.wsgi"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and shown in done.stderr.strip().splitlines()[-1]


# -- an app with users, over HTTP ---------------------------------------------------------------

FACTS = """
import json, sys
from dashapp.app import create_app
app = create_app()
client = app.server.test_client()
signed_in = client.post("/login", base_url="https://c2c.example",
                        data={"username": "ana", "password": sys.argv[1]})
print(json.dumps({
    "rules": [[r.rule, r.endpoint, sorted(r.methods)] for r in app.server.url_map.iter_rules()],
    "cookie": signed_in.headers.get("Set-Cookie"),
    "hsts": signed_in.headers.get("Strict-Transport-Security"),
}))
"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> dict:
    """What an app with users and ``C2C_HTTPS=1`` reports from inside: its routes, and the
    cookie and HSTS header of a sign-in over HTTPS."""
    env = sign_in_env(tmp_path_factory.mktemp("facts"), C2C_HTTPS="1")
    done = subprocess.run([sys.executable, "-c", FACTS, PASSWORD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``c2c serve`` with the users of tests/auth_servers.py: its URL and users file."""
    folder = tmp_path_factory.mktemp("site")
    env = sign_in_env(folder, C2C_PROXIES="1")
    with serving(folder, env) as url:
        yield url, Path(env["C2C_USERS_FILE"])


@pytest.fixture(scope="module")
def site(served) -> str:
    return served[0]


def sign_in(site: str, name: str = "ana", password: str = PASSWORD, client: str = "127.0.0.1",
            session: requests.Session | None = None, **fields: str) -> requests.Response:
    return (session or requests).post(f"{site}/login", allow_redirects=False, timeout=30,
                                      headers={"X-Forwarded-For": client},
                                      data={"username": name, "password": password, **fields})


def signed_in(site: str) -> requests.Session:
    session = requests.Session()
    assert sign_in(site, session=session).status_code == 303
    return session


def concrete(rule: str) -> str:
    """A URL path of a route rule: each ``<converter:name>`` becomes ``x``."""
    return re.sub(r"<[^>]+>", "x", rule)


def test_every_route_needs_sign_in(site, facts):
    rules = {rule: (endpoint, methods) for rule, endpoint, methods in facts["rules"]}
    assert {"/_dash-layout", "/_dash-dependencies", "/_dash-update-component",
            "/assets/<path:filename>", "/_dash-component-suites/<string:package_name>/"
            "<path:fingerprinted_path>", "/", "/<path:path>", "/login"} <= set(rules)
    checked = 0
    for rule, (endpoint, methods) in rules.items():
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in methods:
            answer = requests.request(method, site + concrete(rule), json={}, timeout=30,
                                      allow_redirects=False)
            if method in ("GET", "HEAD") and endpoint in BROWSER_PAGES:
                assert answer.status_code == 302, (method, rule)
                assert answer.headers["Location"].startswith("/login?next=/"), (method, rule)
            else:
                assert answer.status_code == 401, (method, rule, answer.status_code)
                assert "WWW-Authenticate" not in answer.headers  # no browser password dialog
            checked += 1
    assert checked >= 20


def test_only_the_sign_in_page_its_stylesheets_and_icon_are_public(site):
    assert requests.get(f"{site}/login", timeout=30).status_code == 200
    for sheet in ("/assets/bootstrap.min.css", "/assets/style.css"):
        answer = requests.get(site + sheet, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css")
    assert requests.get(f"{site}/_favicon.ico", timeout=30).status_code == 200
    for path in ("/assets/style.css.map", "/static/style.css",
                 "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"):
        assert requests.get(site + path, timeout=30).status_code == 401, path


def test_a_page_redirects_to_sign_in_and_back_with_its_query(site):
    session = requests.Session()
    login = session.get(f"{site}/segments?k=5&features=behaviour", timeout=30)
    assert login.history[0].status_code == 302
    assert login.url.startswith(f"{site}/login?next=")
    shown = re.search(r'name="next" value="([^"]*)"', login.text).group(1)
    assert shown == "/segments?k=5&amp;features=behaviour"  # HTML-escaped in the form
    back = sign_in(site, session=session, next="/segments?k=5&features=behaviour")
    assert (back.status_code, back.headers["Location"]) == (303, "/segments?k=5&features=behaviour")


def test_a_wrong_password_or_unknown_user_is_refused_without_a_cookie(site):
    for name, password in (("ana", "not the password"), ("nobody", PASSWORD)):
        answer = sign_in(site, name, password, client="192.0.2.77")
        assert answer.status_code == 401
        assert "Wrong user name or password." in answer.text
        assert "c2c_session" not in answer.headers.get("Set-Cookie", "")


def test_the_session_cookie_is_http_only_and_same_site(site, facts):
    answer = sign_in(site)
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("c2c_session=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    assert "Secure" in facts["cookie"] and "HttpOnly" in facts["cookie"]  # C2C_HTTPS=1
    assert facts["hsts"].startswith("max-age=")


def test_a_signed_in_session_reaches_the_app_and_logout_ends_it(site):
    session = signed_in(site)
    cookie = session.cookies["c2c_session"]
    layout = session.get(f"{site}/_dash-layout", timeout=30)
    assert layout.status_code == 200 and '"Sign out"' in layout.text and '"ana"' in layout.text
    assert session.get(f"{site}/segments", timeout=30).status_code == 200
    out = session.get(f"{site}/logout", allow_redirects=False, timeout=30)
    assert (out.status_code, out.headers["Location"]) == (302, "/login?signed_out=1")
    assert "You have signed out." in session.get(site + out.headers["Location"], timeout=30).text
    assert session.get(f"{site}/_dash-layout", timeout=30).status_code == 401
    replayed = requests.get(f"{site}/_dash-layout", cookies={"c2c_session": cookie}, timeout=30)
    assert replayed.status_code == 401  # the server ended the session, not just the cookie


def test_http_basic_works_for_scripts_without_a_session(site):
    layout = requests.get(f"{site}/_dash-layout", auth=("ana", PASSWORD), timeout=30)
    assert layout.status_code == 200 and layout.json()
    assert "c2c_session" not in layout.headers.get("Set-Cookie", "")
    wrong = requests.get(f"{site}/_dash-layout", auth=("ana", "wrong"), timeout=30,
                         headers={"X-Forwarded-For": "192.0.2.78"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith('Basic realm="Clusters to Campaigns"')


@pytest.mark.parametrize("target", [
    "//evil.example/x", "https://evil.example/", "http:evil.example", "/\\evil.example",
    "/\t/evil.example", "\\\\evil.example", "evil.example", "javascript:alert(1)",
    "%2F%2Fevil.example", " //evil.example",
])
def test_next_never_leaves_the_site(site, target):
    assert safe_next(target) == "/"
    answer = sign_in(site, next=target)
    assert (answer.status_code, answer.headers["Location"]) == (303, "/")
    page = requests.get(f"{site}/login", params={"next": target}, timeout=30)
    assert 'name="next" value="/"' in page.text


def test_a_cross_site_sign_in_form_is_refused(site):
    answer = requests.post(f"{site}/login", headers={"Sec-Fetch-Site": "cross-site"},
                           data={"username": "ana", "password": PASSWORD}, timeout=30,
                           allow_redirects=False)
    assert answer.status_code == 403 and "c2c_session" not in answer.headers.get("Set-Cookie", "")


def test_failed_sign_ins_are_limited_per_client_address(site):
    for _ in range(10):
        assert sign_in(site, "mallory", "guess", client="203.0.113.5").status_code == 401
    blocked = sign_in(site, client="203.0.113.5")  # even the right password, from there
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert sign_in(site, client="203.0.113.6").status_code == 303  # others still sign in


def test_failed_sign_ins_are_limited_per_user_name(site):
    for client in range(1, 11):
        assert sign_in(site, "bea", "guess", client=f"198.51.100.{client}").status_code == 401
    assert sign_in(site, "bea", USERS["bea"], client="198.51.100.11").status_code == 429


def test_failed_basic_credentials_count_against_the_same_limit(site):
    for _ in range(10):
        assert requests.get(f"{site}/_dash-layout", auth=("trudy", "guess"), timeout=30,
                            headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    blocked = requests.get(f"{site}/_dash-layout", auth=("ana", PASSWORD), timeout=30,
                           headers={"X-Forwarded-For": "203.0.113.9"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]


def test_users_file_changes_apply_while_serving(served):
    site, path = served
    Users.read(path).with_password("dan", "dan's first password").write(path)
    session = requests.Session()
    assert sign_in(site, "dan", "dan's first password", session=session).status_code == 303
    assert session.get(f"{site}/_dash-layout", timeout=30).status_code == 200
    Users.read(path).with_password("dan", "dan's second password").write(path)
    assert session.get(f"{site}/_dash-layout", timeout=30).status_code == 401  # new password
    Users.read(path).without("dan").write(path)
    assert sign_in(site, "dan", "dan's second password", client="192.0.2.90").status_code == 401
