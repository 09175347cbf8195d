"""Issue 8: CSRF is enforced on every browser form, and on the API for browser sessions.

The walk covers every route of the root URL resolver (new routes are picked up by themselves) except:
- /api/ : DRF views are csrf_exempt at the middleware on purpose; SessionAuthentication enforces CSRF itself for
  browser sessions, and partner systems authenticate with a token no other site can send (tested below);
- /admin/ : Django's own admin, protected by the same CsrfViewMiddleware (its views are checked not to be
  csrf_exempt below, and its sign-in form refuses a POST without the token); its URL kwargs (app, model, object id)
  are Django's business, not a form of ours;
- /static/ : files served by whitenoise before any view, GET and HEAD only (not in the resolver unless DEBUG);
- /healthz : the load balancer's probe, require_GET, no session, writes nothing.

Every remaining route whose view accepts POST (or PUT/PATCH/DELETE) is posted to by a signed-in user allowed to use
it, with the CSRF cookie but no token: the answer is the CSRF failure page (403) and no row of any table changed.
The same request with the token is then not refused (in a rolled-back transaction): the refusal came from the
missing token, not from the user, the object or the method. ROUTES below says only how to build each route's URL
and who uses it; a POST route without an entry fails the walk.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode
from django.views.generic.edit import ProcessFormView

pytestmark = pytest.mark.django_db

EXCLUDED_PREFIXES = ("api/", "admin/", "static/", "healthz")
UNSAFE_METHODS = ("post", "put", "patch", "delete")
# Tables whose rows a refused request may still touch: the session of the signed-in client (saved on every request,
# SESSION_SAVE_EVERY_REQUEST) is not data of the app.
UNCOUNTED_APPS = {"sessions"}


# --- The routes -----------------------------------------------------------------------------------------


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else None
            yield prefix + str(entry.pattern), name, entry.callback


def browser_routes():
    """(route, name, callback) of every browser route: the root resolver minus the excluded prefixes."""
    return [route for route in _walk(get_resolver()) if not route[0].startswith(EXCLUDED_PREFIXES)]


def unsafe_methods(callback) -> list[str]:
    """The unsafe methods a route's view accepts: a class-based view's handlers; a function view may accept any.

    Django's form views answer PUT with their POST handler (ProcessFormView.put); CsrfViewMiddleware treats every
    unsafe method alike, so such a PUT is the POST already tried and is not sent again.
    """
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return ["post"]
    return [
        method
        for method in UNSAFE_METHODS
        if method in view_class.http_method_names
        and hasattr(view_class, method)
        and not (method == "put" and view_class.put is ProcessFormView.put)
    ]


def unsafe_routes():
    return [(route, name, callback) for route, name, callback in browser_routes() if unsafe_methods(callback)]


# --- The world the routes act on ---------------------------------------------------------------------------


def build_objects(world) -> SimpleNamespace:
    """Real records for every kind of URL: people, cases, letters, lists, notices, staff, partner systems.

    Built with the apps' own template contexts (tests/<app>/template_context.py, through the services) plus a draft
    letter, whose text can still be edited.
    """
    from beneficiaries.models import ImportJob
    from jointops import services as jointops_services
    from letters_of_understanding.models import PhaseOutAction
    from notifications import services as notification_services
    from notifications.models import Notification
    from privacy import services as privacy_services
    from privacy.choices import RequestChannel, RequestKind
    from tests.beneficiaries.template_context import template_context as people
    from tests.factories.beneficiaries import person
    from tests.factories.letters_of_understanding import draft
    from tests.letters_of_understanding.template_context import template_context as letters
    from tests.notifications.template_context import template_context as notices
    from tests.returns.template_context import template_context as returns

    o = SimpleNamespace(w=world)
    p, r, lou, n = people(world), returns(world), letters(world), notices(world)
    o.person, o.document, o.household = p["beneficiary"], p["documents"][0], p["household"]
    o.other_person = person(world.iom_af, actor=world.iom_af_staff)
    o.case, o.operation, o.agreement, o.consultation = r["case"], r["operation"], r["agreement"], r["consultation"]
    o.case_member = o.case.members.first()
    o.measure = r["measures"][0]["measure"]
    o.lou, o.amendment, o.item = lou["lou"], lou["amendment"], lou["lou_item"]
    o.plan_action = PhaseOutAction.objects.filter(plan__lou=o.lou).first()
    o.obligation = o.lou.obligations.first()
    o.draft = draft(world)
    o.activity = o.draft.activities.first()
    o.pdl, o.entry = n["pdl"], n["pdl_entry"]
    o.delivery = n["deliveries"][0]
    o.subscription = n["subscription"]
    o.notice = Notification.objects.filter(recipient=world.unhcr_af_staff).first()
    o.contact = notification_services.office_contact_add(
        actor=world.unhcr_admin, office=world.unhcr_af, email="kabul@unhcr.example.org"
    )
    o.api_client, _token = jointops_services.api_client_create(
        actor=world.iom_admin, name="MiMOSA Kabul", office=world.iom_af, scopes=["offices:read"]
    )
    o.membership = world.iom_af_staff.memberships.first()
    o.import_job = ImportJob.objects.first()
    o.privacy_request = privacy_services.request_record(
        actor=world.iom_af_manager,
        person=o.person,
        kind=RequestKind.ACCESS,
        received_on=timezone.localdate(),
        channel=RequestChannel.IN_PERSON,
    )
    return o


def _reset_kwargs(o):
    user = o.w.iom_af_staff
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


# name -> (who uses it: a world attribute or None for anonymous, the URL kwargs from the objects[, its query string])
ROUTES = {
    "set_language": (None, lambda o: {}),
    "login": (None, lambda o: {}),
    "logout": ("iom_af_staff", lambda o: {}),
    "password_change": ("iom_af_staff", lambda o: {}),
    "password_reset": (None, lambda o: {}),
    "password_reset_confirm": (None, _reset_kwargs),
    # beneficiaries
    "beneficiaries:beneficiary_import": ("iom_af_staff", lambda o: {}),
    "beneficiaries:beneficiary_create": ("iom_af_staff", lambda o: {}),
    "beneficiaries:beneficiary_merge": ("iom_af_manager", lambda o: {}),
    "beneficiaries:beneficiary_update": ("iom_af_staff", lambda o: {"pk": o.person.pk}),
    "beneficiaries:beneficiary_change_category": ("iom_af_staff", lambda o: {"pk": o.person.pk}),
    "beneficiaries:beneficiary_share": ("iom_af_staff", lambda o: {"pk": o.person.pk}),
    "beneficiaries:document_add": ("iom_af_staff", lambda o: {"pk": o.person.pk}),
    "beneficiaries:document_remove": ("iom_af_staff", lambda o: {"pk": o.person.pk, "document_pk": o.document.pk}),
    "beneficiaries:household_create": ("iom_af_staff", lambda o: {}),
    "beneficiaries:household_add_member": ("iom_af_staff", lambda o: {"pk": o.household.pk}),
    "beneficiaries:household_remove_member": (
        "iom_af_staff",
        lambda o: {"pk": o.household.pk, "person_pk": o.person.pk},
    ),
    # returns
    "returns:case_create": ("iom_de_staff", lambda o: {}),
    "returns:case_update": ("iom_de_staff", lambda o: {"pk": o.case.pk}),
    "returns:case_move": ("iom_de_staff", lambda o: {"pk": o.case.pk, "transition": "reschedule_departure"}),
    "returns:case_add_member": ("iom_de_staff", lambda o: {"pk": o.case.pk}),
    "returns:case_remove_member": ("iom_de_staff", lambda o: {"pk": o.case.pk, "member_pk": o.case_member.pk}),
    "returns:case_measure": ("iom_de_staff", lambda o: {"pk": o.case.pk, "measure_pk": o.measure.pk}),
    "returns:case_visit": ("iom_de_staff", lambda o: {"pk": o.case.pk}),
    "returns:operation_create": ("unhcr_af_staff", lambda o: {}),
    "returns:operation_update": ("unhcr_af_staff", lambda o: {"pk": o.operation.pk}),
    "returns:agreement_create": ("iom_af_manager", lambda o: {}),
    "returns:agreement_update": ("iom_af_manager", lambda o: {"pk": o.agreement.pk}),
    # letters of understanding
    "letters_of_understanding:lou_create": ("iom_af_staff", lambda o: {}),
    "letters_of_understanding:lou_update": ("iom_af_staff", lambda o: {"pk": o.draft.pk}),
    "letters_of_understanding:lou_act": ("iom_af_staff", lambda o: {"pk": o.lou.pk, "act": "record_review"}),
    "letters_of_understanding:lou_row_add": ("iom_af_staff", lambda o: {"pk": o.draft.pk, "collection": "activities"}),
    "letters_of_understanding:lou_row_update": (
        "iom_af_staff",
        lambda o: {"pk": o.draft.pk, "collection": "activities", "row_pk": o.activity.pk},
    ),
    "letters_of_understanding:lou_row_remove": (
        "iom_af_staff",
        lambda o: {"pk": o.draft.pk, "collection": "activities", "row_pk": o.activity.pk},
    ),
    "letters_of_understanding:amendment_create": ("iom_af_staff", lambda o: {"pk": o.lou.pk}),
    "letters_of_understanding:amendment_decide": (
        "iom_af_manager",
        lambda o: {"pk": o.lou.pk, "amendment_pk": o.amendment.pk, "decision": "approve"},
    ),
    "letters_of_understanding:plan_edit": ("iom_af_staff", lambda o: {"pk": o.lou.pk}),
    "letters_of_understanding:plan_action_add": ("iom_af_staff", lambda o: {"pk": o.lou.pk}),
    "letters_of_understanding:plan_action_update": (
        "iom_af_staff",
        lambda o: {"pk": o.lou.pk, "action_pk": o.plan_action.pk},
    ),
    "letters_of_understanding:plan_action_remove": (
        "iom_af_staff",
        lambda o: {"pk": o.lou.pk, "action_pk": o.plan_action.pk},
    ),
    "letters_of_understanding:obligation_add": ("iom_af_staff", lambda o: {"pk": o.lou.pk}),
    "letters_of_understanding:obligation_update": (
        "iom_af_staff",
        lambda o: {"pk": o.lou.pk, "row_pk": o.obligation.pk},
    ),
    "letters_of_understanding:handover_add": ("iom_af_staff", lambda o: {"pk": o.lou.pk}),
    "letters_of_understanding:handover_update": ("iom_af_staff", lambda o: {"pk": o.lou.pk, "row_pk": o.item.pk}),
    "letters_of_understanding:handover_decide": ("iom_af_manager", lambda o: {"pk": o.lou.pk, "row_pk": o.item.pk}),
    # notifications
    "notifications:notification_read_all": ("unhcr_af_staff", lambda o: {}),
    "notifications:notification_open": ("unhcr_af_staff", lambda o: {"pk": o.notice.pk}),
    "notifications:notification_read": ("unhcr_af_staff", lambda o: {"pk": o.notice.pk}),
    "notifications:email_preference": ("unhcr_af_staff", lambda o: {}),
    "notifications:list_build": ("iom_af_staff", lambda o: {}),
    "notifications:list_acknowledge": ("unhcr_af_staff", lambda o: {"pk": o.pdl.pk}),
    "notifications:entry_concern": ("unhcr_af_staff", lambda o: {"pk": o.pdl.pk, "entry_pk": o.entry.pk}),
    "notifications:entry_close_record": ("unhcr_af_staff", lambda o: {"pk": o.pdl.pk, "entry_pk": o.entry.pk}),
    "notifications:delivery_retry": ("unhcr_admin", lambda o: {"pk": o.delivery.pk}),
    "notifications:contact_add": ("unhcr_admin", lambda o: {}),
    "notifications:contact_remove": ("unhcr_admin", lambda o: {"pk": o.contact.pk}),
    "notifications:lead_time_set": ("iom_admin", lambda o: {}),
    "notifications:webhook_create": ("unhcr_admin", lambda o: {}),
    "notifications:webhook_activate": ("unhcr_admin", lambda o: {"pk": o.subscription.pk}),
    "notifications:webhook_deactivate": ("unhcr_admin", lambda o: {"pk": o.subscription.pk}),
    # consultations
    "consultations:consultation_create": ("iom_af_staff", lambda o: {}),
    # the platform
    "jointops:office_create": ("iom_admin", lambda o: {}),
    "jointops:office_update": ("iom_admin", lambda o: {"pk": o.w.iom_af.pk}),
    "jointops:user_create": ("iom_admin", lambda o: {}),
    "jointops:user_activate": ("iom_admin", lambda o: {"pk": o.w.iom_af_staff.pk}),
    "jointops:user_deactivate": ("iom_admin", lambda o: {"pk": o.w.iom_af_staff.pk}),
    "jointops:membership_set": ("iom_admin", lambda o: {"pk": o.w.iom_af_staff.pk}),
    "jointops:membership_remove": (
        "iom_admin",
        lambda o: {"pk": o.w.iom_af_staff.pk, "membership_pk": o.membership.pk},
    ),
    "jointops:api_client_create": ("iom_admin", lambda o: {}),
    "jointops:api_client_revoke": ("iom_admin", lambda o: {"pk": o.api_client.pk}),
    # two-factor sign-in and the account's security (accounts)
    "accounts:two_factor_verify": ("iom_af_manager", lambda o: {}),
    "accounts:two_factor_setup": ("iom_af_staff", lambda o: {}),
    "accounts:recovery_codes_regenerate": ("iom_af_manager", lambda o: {}),
    "accounts:two_factor_disable": ("iom_af_staff", lambda o: {}),
    "accounts:sign_out_everywhere": ("iom_af_staff", lambda o: {}),
    "accounts:staff_two_factor_reset": ("iom_admin", lambda o: {"pk": o.w.iom_af_staff.pk}),
    "accounts:staff_sign_out_everywhere": ("iom_admin", lambda o: {"pk": o.w.iom_af_staff.pk}),
    # the person's rights (privacy)
    "privacy:request_create": ("iom_af_manager", lambda o: {}, lambda o: f"person={o.person.pk}"),
    "privacy:request_detail": ("iom_af_manager", lambda o: {"pk": o.privacy_request.pk}),
}


# --- Helpers --------------------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """The number of rows of every table of every installed app (but the sessions), in one query."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.app_label not in UNCOUNTED_APPS and model._meta.managed and not model._meta.proxy
        }
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def csrf_client(user=None) -> tuple[Client, str]:
    """A browser that enforces CSRF, signed in as `user`, holding a CSRF cookie (as after any page of ours)."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    secret = get_random_string(32, allowed_chars=CSRF_ALLOWED_CHARS)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, secret


def _send(client: Client, method: str, url: str, data: dict, **headers):
    if method == "post":
        return client.post(url, data, **headers)
    return getattr(client, method)(url, urlencode(data), content_type="application/x-www-form-urlencoded", **headers)


def _is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and "403_csrf.html" in [t.name for t in response.templates]


# --- The tests ------------------------------------------------------------------------------------------


def test_csrf_every_post_route_has_an_entry_in_the_table():
    names = {name for _route, name, _callback in unsafe_routes()}
    unnamed = [route for route, name, _callback in unsafe_routes() if name is None]
    missing = sorted(names - set(ROUTES) - {None})
    stale = sorted(set(ROUTES) - names)

    assert unnamed == [], f"name these POST routes so the CSRF walk can build their URL: {unnamed}"
    assert missing == [], f"add these POST routes to ROUTES in {Path(__file__).name}: {missing}"
    assert stale == [], f"these ROUTES entries name no POST route any more: {stale}"
    assert len(names) >= 70  # the walk really finds the app's forms


def test_csrf_no_browser_or_admin_view_is_exempt():
    exempt = [
        route
        for route, _name, callback in _walk(get_resolver())
        if getattr(callback, "csrf_exempt", False) and not route.startswith("api/")
    ]

    assert exempt == []
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


def test_csrf_every_browser_form_refuses_a_post_without_the_token_and_writes_nothing(world):
    o = build_objects(world)
    problems: list[str] = []
    tried = 0
    for route, name, callback in unsafe_routes():
        username, kwargs, *query = ROUTES[name]
        user = getattr(world, username) if username else None
        url = reverse(name, kwargs=kwargs(o)) + (f"?{query[0](o)}" if query else "")
        for method in unsafe_methods(callback):
            tried += 1
            client, secret = csrf_client(user)
            before = row_counts()
            response = _send(client, method, url, {"name": "x"})
            after = row_counts()
            changed = {label: (count, after[label]) for label, count in before.items() if after[label] != count}
            if not _is_csrf_refusal(response):
                problems.append(f"{method.upper()} {url} ({route}) without a token answered {response.status_code}")
            if changed:
                problems.append(f"{method.upper()} {url} without a token wrote {changed}")
            # The same request with the token is not refused: the user may use the form and the object is real.
            # Rolled back, so each route starts from the same records.
            with transaction.atomic():
                control = _send(client, method, url, {"csrfmiddlewaretoken": secret}, HTTP_X_CSRFTOKEN=secret)
                transaction.set_rollback(True)
            if control.status_code in (403, 404, 405):
                problems.append(f"{method.upper()} {url} ({route}) with the token answered {control.status_code}")

    assert not problems, "\n".join(problems)
    assert tried >= 70


def test_csrf_a_wrong_token_is_refused_too(world):
    client, _secret = csrf_client(world.iom_admin)
    before = row_counts()

    response = client.post(
        reverse("jointops:office_create"),
        {"csrfmiddlewaretoken": get_random_string(32, allowed_chars=CSRF_ALLOWED_CHARS), "code": "IOM-XX"},
    )

    assert _is_csrf_refusal(response)
    assert row_counts() == before


def test_csrf_login_form_refuses_a_post_without_the_token(world):
    from tests.factories.jointops import PASSWORD

    client, secret = csrf_client()
    data = {"username": world.iom_af_staff.username, "password": PASSWORD}

    refused = client.post(reverse("login"), data)
    assert _is_csrf_refusal(refused)
    assert "_auth_user_id" not in client.session

    accepted = client.post(reverse("login"), {**data, "csrfmiddlewaretoken": secret})
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(world.iom_af_staff.pk)


def test_csrf_admin_sign_in_refuses_a_post_without_the_token(world):
    client, _secret = csrf_client()

    response = client.post(reverse("admin:login"), {"username": "x", "password": "y"})

    assert response.status_code == 403


FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
POST_FORM = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)


def _template_files():
    root = Path(settings.BASE_DIR) / "templates"
    return sorted(path for path in root.rglob("*.html"))


def test_csrf_every_post_form_template_holds_the_token():
    missing = []
    forms = 0
    for path in _template_files():
        text = path.read_text()
        for tag in FORM_TAG.finditer(text):
            if not POST_FORM.search(tag.group(0)):
                continue
            forms += 1
            end = text.find("</form>", tag.end())
            body = text[tag.end() : end if end != -1 else len(text)]
            if "{% csrf_token %}" not in body:
                line = text.count("\n", 0, tag.start()) + 1
                missing.append(f"{path.relative_to(settings.BASE_DIR)}:{line}")

    assert missing == []
    assert forms >= 40


def test_csrf_api_write_with_a_session_and_no_token_is_refused(world):
    from jointops.models import Office

    client, secret = csrf_client(world.iom_admin)
    body = {"code": "IOM-XX-NEW", "name": "New office", "level": "country", "country": "PK", "parent": "IOM-HQ"}
    before = Office.objects.count()

    refused = client.post("/api/v1/offices/", body, content_type="application/json")

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert Office.objects.count() == before

    accepted = client.post("/api/v1/offices/", body, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code != 403, accepted.content


def test_csrf_partner_systems_authenticate_with_their_token_and_need_no_csrf_token(world):
    from beneficiaries.models import Beneficiary
    from jointops import services

    _row, token = services.api_client_create(
        actor=world.iom_admin, name="MiMOSA", office=world.iom_af, scopes=["beneficiaries:read", "beneficiaries:write"]
    )
    client = Client(enforce_csrf_checks=True)
    body = {
        "office": "IOM-AF-KBL",
        "category": "asylum_seeker",
        "category_since": "2024-03-01",
        "given_name": "Mohammad",
        "family_name": "Ahmadi",
        "sex": "male",
        "date_of_birth": "1990-05-01",
        "nationality": "AF",
        "country_of_residence": "AF",
    }
    before = Beneficiary.objects.count()

    response = client.post(
        "/api/v1/beneficiaries/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )

    assert response.status_code == 201, response.content
    assert Beneficiary.objects.count() == before + 1
