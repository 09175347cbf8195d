"""Issue 8: every page carries the browser-hardening headers, and nothing of ours needs inline script or style.

- The Content-Security-Policy (django-csp, jointops/settings.py) allows scripts, styles, fonts and requests from our
  own origin only, with no 'unsafe-inline' and no 'unsafe-eval'; with it come Permissions-Policy, X-Frame-Options,
  nosniff, Referrer-Policy and Cross-Origin-Opener-Policy.
- Every page is walked: each parameter-free route of the URL resolver (the app, the API, the admin) signed in as a
  user who may open it, and detail pages of real records. Every answer has the headers; every HTML page is parsed
  and holds no inline script, no event-handler attribute, no style attribute or <style> block, no javascript: URL.
  That covers the installed apps' templates we render too (Django's admin, drf-spectacular, the sign-in pages).
- Our templates are scanned as source as well (templates/**), so a branch no walk reaches is caught.
- Under DJANGO_HTTPS=1 the cookies are secure, HSTS is on and plain http redirects.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse

from tests.jointops.test_csrf import _walk, build_objects

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}
OTHER_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# Who opens the pages: the first of these to get a 200 (anonymous first: the sign-in pages).
VISITORS = [None, "iom_admin", "iom_hq_focal", "iom_af_manager", "iom_af_staff", "unhcr_af_staff", "unhcr_admin"]
# Routes with a GET handler that no visitor opens with a 200 here, and why (their answers are checked all the same).
NO_PAGE = {
    "set_language": "redirects back",
    "accounts:two_factor_verify": "redirects: the test sign-ins have passed the second factor (tests/conftest.py)",
    "accounts:two_factor_qr": "only while a device is being set up",
    "privacy:request_create": "needs ?person=<id>",
}


def parse_policy(header: str) -> dict[str, set[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def header_problems(response) -> list[str]:
    problems = []
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        problems.append(f"unsafe source in the policy: {policy}")
    if parse_policy(policy) != POLICY:
        problems.append(f"policy differs: {policy}")
    for name, value in OTHER_HEADERS.items():
        if response.headers.get(name) != value:
            problems.append(f"{name}: {response.headers.get(name)!r}")
    return problems


class InlineFinder(HTMLParser):
    """What a strict policy refuses in a rendered page: inline script, inline style, handlers, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        where = f"line {self.getpos()[0]}: <{tag}>"
        if tag == "script" and not values.get("src"):
            self._in_script = values.get("type", "")
        if tag == "style":
            self.problems.append(f"{where} <style> block")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{where} event handler {name}=")
            if name == "style":
                self.problems.append(f"{where} style attribute")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"{where} javascript: URL in {name}")

    def handle_data(self, data):
        # A data block (Django's json_script, type application/json) is never run, so the policy allows it.
        if self._in_script is not None and self._in_script != "application/json" and data.strip():
            self.problems.append(f"line {self.getpos()[0]}: inline <script> ({self._in_script or 'JavaScript'})")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def inline_problems(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def _check(response, url: str, problems: list[str]) -> None:
    problems.extend(f"{url}: {problem}" for problem in header_problems(response))
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        problems.extend(f"{url}: {problem}" for problem in inline_problems(response.content.decode()))


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- The policy itself ---------------------------------------------------------------------------------------


def test_headers_policy_is_strict_and_complete(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert header_problems(response) == []
    assert parse_policy(response["Content-Security-Policy"])["script-src"] == {"'self'"}


def test_headers_bootstrap_css_needs_data_images_and_nothing_else_from_outside():
    """img-src allows data: because Bootstrap's CSS draws its icons as data: SVG (select arrow, validation, close)."""
    css = (Path(settings.BASE_DIR) / "static/vendor/bootstrap-5.3.9/css/bootstrap.min.css").read_text()
    urls = re.findall(r"url\(([^)]*)\)", css)

    assert urls and all(url.strip("'\"").startswith("data:image/svg+xml") for url in urls)


def test_headers_static_files_carry_the_policy_too(client):
    """Whitenoise answers before Django's X-Frame-Options middleware; the policy's frame-ancestors covers them."""
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert [problem for problem in header_problems(response) if not problem.startswith("X-Frame-Options")] == []
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_headers_error_pages_carry_the_policy(world):
    client = _client(world.iom_af_staff)
    for url in ("/no-such-page/", "/offices/999999/"):
        response = client.get(url)
        assert response.status_code == 404
        assert header_problems(response) == []
        assert inline_problems(response.content.decode()) == []


# --- Every page ------------------------------------------------------------------------------------------------


def _parameter_free_urls():
    urls = {}
    for route, name, callback in _walk(get_resolver()):
        if name is None:
            continue
        try:
            urls[name] = (route, reverse(name), callback)
        except NoReverseMatch:
            continue  # needs parameters: the detail pages below
    return urls


def _has_get(callback) -> bool:
    view_class = getattr(callback, "view_class", None)
    return view_class is None or ("get" in view_class.http_method_names and hasattr(view_class, "get"))


def test_headers_every_parameter_free_page_for_a_user_who_may_open_it(world):
    """Every parameter-free route, GET, by the first visitor it opens for (the admin's by a superuser).

    A route without a GET handler (a form's target) is asked once: its 405 carries the headers too. Admin pages
    may refuse by design (an add page of a read-only model answers 403); the admin index must open.
    """
    from tests.factories.jointops import UserFactory

    superuser = UserFactory(username="root", is_staff=True, is_superuser=True, organisation=world.iom)
    clients: dict = {}

    def client_for(user):
        if user not in clients:
            clients[user] = _client(user)
        return clients[user]

    problems: list[str] = []
    unopened, opened = [], []
    urls = _parameter_free_urls()
    for name, (route, url, callback) in sorted(urls.items()):
        if route.startswith("admin/"):
            visitors = [superuser]
        elif not _has_get(callback):
            visitors = [world.iom_af_staff]
        else:
            visitors = [getattr(world, v) if v else None for v in VISITORS]
        for user in visitors:
            response = client_for(user).get(url)
            _check(response, url, problems)
            if response.status_code == 200:
                opened.append(name)
                break
        else:
            # API actions share their viewset's GET handler but answer POST only; admin pages may refuse by design.
            if _has_get(callback) and not route.startswith(("admin/", "api/")) and name not in NO_PAGE:
                unopened.append(url)

    assert not problems, "\n".join(problems)
    assert not unopened, "\n".join(unopened)
    assert "admin:index" in opened and "api-docs" in opened and "home" in opened
    assert len(opened) >= 80


def _detail_pages(o):
    w = o.w
    lou_version = o.lou.versions.order_by("number").first()
    return [
        ("beneficiaries:beneficiary_detail", {"pk": o.person.pk}, w.iom_af_staff),
        ("beneficiaries:beneficiary_update", {"pk": o.person.pk}, w.iom_af_staff),
        ("beneficiaries:household_detail", {"pk": o.household.pk}, w.iom_af_staff),
        ("returns:case_detail", {"pk": o.case.pk}, w.iom_de_staff),
        ("returns:case_update", {"pk": o.case.pk}, w.iom_de_staff),
        ("returns:operation_detail", {"pk": o.operation.pk}, w.unhcr_af_staff),
        ("returns:agreement_detail", {"pk": o.agreement.pk}, w.iom_af_manager),
        ("letters_of_understanding:lou_detail", {"pk": o.lou.pk}, w.iom_af_manager),
        ("letters_of_understanding:lou_update", {"pk": o.draft.pk}, w.iom_af_staff),
        ("letters_of_understanding:version_detail", {"pk": o.lou.pk, "number": lou_version.number}, w.iom_af_staff),
        ("letters_of_understanding:version_compare", {"pk": o.lou.pk}, w.iom_af_staff),
        (
            "letters_of_understanding:amendment_detail",
            {"pk": o.lou.pk, "amendment_pk": o.amendment.pk},
            w.iom_af_manager,
        ),
        ("notifications:list_detail", {"pk": o.pdl.pk}, w.unhcr_af_staff),
        ("consultations:consultation_detail", {"pk": o.consultation.pk}, w.iom_de_staff),
        ("dashboards:office", {"pk": w.iom_af.pk}, w.iom_af_manager),
        ("jointops:office_detail", {"pk": w.iom_af.pk}, w.iom_admin),
        ("jointops:user_detail", {"pk": w.iom_af_staff.pk}, w.iom_admin),
        ("jointops:api_client_detail", {"pk": o.api_client.pk}, w.iom_admin),
    ]


def test_headers_detail_pages_of_real_records(world):
    o = build_objects(world)
    problems: list[str] = []
    for name, kwargs, user in _detail_pages(o):
        url = reverse(name, kwargs=kwargs)
        response = _client(user).get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        _check(response, url, problems)

    assert not problems, "\n".join(problems)


def test_headers_admin_change_and_history_pages(world):
    from tests.factories.jointops import UserFactory

    superuser = UserFactory(username="root", is_staff=True, is_superuser=True, organisation=world.iom)
    client = _client(superuser)
    problems: list[str] = []
    for url in (
        reverse("admin:jointops_office_change", args=[world.iom_af.pk]),
        reverse("admin:jointops_user_change", args=[world.iom_af_staff.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _check(response, url, problems)

    assert not problems, "\n".join(problems)


def test_headers_api_docs_load_their_script_from_our_origin_only(world):
    client = _client(world.iom_af_staff)

    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    assert header_problems(page) == []
    assert inline_problems(page.content.decode()) == []
    script_src = re.search(r'<script src="([^"]*script=[^"]*)"', page.content.decode()).group(1)

    script = client.get(script_src.replace("&amp;", "&"), HTTP_SEC_FETCH_SITE="same-origin")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert script["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "SwaggerUIBundle(" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()  # no call to an outside validator

    # The script holds the caller's CSRF token: another site's page may not load it.
    assert client.get(script_src.replace("&amp;", "&"), HTTP_SEC_FETCH_SITE="cross-site").status_code == 403


# --- Our templates, as source ----------------------------------------------------------------------------------

TAG = re.compile(r"<[a-zA-Z][^<>]*>")
SCRIPT_WITHOUT_SRC = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def template_problems(text: str) -> list[str]:
    problems = []

    def line(index: int) -> int:
        return text.count("\n", 0, index) + 1

    for match in SCRIPT_WITHOUT_SRC.finditer(text):
        if "application/json" not in match.group(0):
            problems.append(f"line {line(match.start())}: <script> without src")
    for match in re.finditer(r"<style\b", text, re.IGNORECASE):
        problems.append(f"line {line(match.start())}: <style> block")
    for match in re.finditer(r"javascript:", text, re.IGNORECASE):
        problems.append(f"line {line(match.start())}: javascript: URL")
    for tag in TAG.finditer(text):
        if HANDLER.search(tag.group(0)):
            problems.append(f"line {line(tag.start())}: event-handler attribute")
        if STYLE_ATTRIBUTE.search(tag.group(0)):
            problems.append(f"line {line(tag.start())}: style attribute")
    return problems


def test_headers_template_scan_finds_what_the_policy_refuses():
    bad = (
        '<script>alert(1)</script>\n<style>p{}</style>\n<a href="javascript:void(0)">x</a>\n'
        '<button onclick="go()">x</button>\n<div style="color:red">x</div>\n'
    )
    good = '<script src="/static/js/app.js" defer></script>\n{{ data|json_script:"d" }}\n<div class="onx">x</div>\n'

    assert len(template_problems(bad)) == 5
    assert template_problems(good) == []
    assert len(inline_problems(bad)) == 5
    assert inline_problems('<script type="application/json" id="d">{"a": 1}</script>') == []


def test_headers_no_template_of_ours_holds_inline_script_or_style():
    root = Path(settings.BASE_DIR) / "templates"
    found = {
        str(path.relative_to(root)): problems
        for path in sorted(root.rglob("*.html"))
        if (problems := template_problems(path.read_text()))
    }

    assert found == {}


def test_headers_static_scripts_use_no_eval():
    for path in sorted((Path(settings.BASE_DIR) / "static/js").glob("*.js")):
        text = path.read_text()
        assert not re.search(r"\beval\s*\(|new Function\s*\(|setTimeout\(\s*['\"]|innerHTML\s*=", text), path.name


# --- Behind TLS ------------------------------------------------------------------------------------------------

DUMP = """
import json
import django

django.setup()
from django.conf import settings as s

print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT, "proxy_header": s.SECURE_PROXY_SSL_HEADER,
    "session_secure": s.SESSION_COOKIE_SECURE, "csrf_secure": s.CSRF_COOKIE_SECURE,
    "language_secure": s.LANGUAGE_COOKIE_SECURE, "hsts": s.SECURE_HSTS_SECONDS,
    "hsts_subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "hsts_preload": s.SECURE_HSTS_PRELOAD,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY, "session_samesite": s.SESSION_COOKIE_SAMESITE,
    "csrf_samesite": s.CSRF_COOKIE_SAMESITE,
}))
"""


def _settings_under(tmp_path, **values) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_HTTPS", "SECURE_HSTS_SECONDS")}
    env.update({"DJANGO_SETTINGS_MODULE": "jointops.settings", "JOINTOPS_VAR_DIR": str(tmp_path), **values})
    result = subprocess.run(
        [sys.executable, "-c", DUMP], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_headers_https_turns_on_secure_cookies_hsts_and_redirects(tmp_path):
    found = _settings_under(tmp_path, DJANGO_HTTPS="1")

    assert found["ssl_redirect"] is True
    assert found["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["session_secure"] is True and found["csrf_secure"] is True and found["language_secure"] is True
    assert found["hsts"] >= 31536000 and found["hsts_subdomains"] is True and found["hsts_preload"] is True
    assert found["session_httponly"] is True
    assert (found["session_samesite"], found["csrf_samesite"]) == ("Lax", "Lax")


def test_headers_without_https_cookies_are_not_marked_secure(tmp_path):
    """The control: the values above come from DJANGO_HTTPS, not from a default that would break plain-http dev."""
    found = _settings_under(tmp_path)

    assert found["ssl_redirect"] is False
    assert found["session_secure"] is False and found["csrf_secure"] is False
    assert found["hsts"] == 0
