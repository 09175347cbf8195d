"""Every template under templates/ renders, in each language, with a minimal context."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.core.paginator import Paginator
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory
from django.utils import translation

from jointops import services
from jointops.filters import OfficeFilterSet
from jointops.forms import ApiClientCreateForm, OfficeForm, UserCreateForm, prepare_filter_form

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
TEMPLATE_NAMES = sorted(
    str(path.relative_to(TEMPLATES_DIR)) for path in TEMPLATES_DIR.rglob("*") if path.suffix in {".html", ".txt"}
)


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", max_length=10, help_text="Help")
    agree = forms.BooleanField(label="Agree")
    choice = forms.ChoiceField(label="Choice", choices=[("a", "A"), ("b", "B")])
    many = forms.MultipleChoiceField(label="Many", choices=[("x", "X")], widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


def _context(world) -> dict:
    client, token = services.api_client_create(
        actor=world.iom_admin, name="MiMOSA", office=world.iom_af, scopes=["offices:read"]
    )
    paginator = Paginator(list(range(60)), 25)
    bound = SampleForm(data={"name": "far too long for it"})
    bound.is_valid()
    return {
        "form": bound,
        "field": bound["name"],
        "messages": [Message(constants.SUCCESS, "Saved."), Message(constants.ERROR, "Refused.")],
        "filter_form": prepare_filter_form(OfficeFilterSet(data={}).form),
        "page_obj": paginator.page(2),
        "paginator": paginator,
        "object_list": [],
        "office": world.iom_af,
        "person": world.iom_af_staff,
        "client": client,
        "token": token,
        "uid": "MQ",
        "email": "someone@example.org",
        "protocol": "https",
        "domain": "jointops.example.org",
        "user": world.iom_af_staff,
        "validlink": True,
        "organisation": world.iom,
        "roles": {"field_staff", "office_manager", "hq_focal_point", "administrator"},
        "memberships": list(world.iom_af_staff.memberships.all()),
        "field_offices": [world.iom_af],
        "managed_offices": [{"office": world.iom_af, "staff": [world.iom_af_staff]}],
        "home_staff_limit": 20,
        "organisation_offices": [world.iom_hq, world.iom_af, world.iom_de],
        "admin_counts": {"offices": 4, "staff": 7, "api_clients": 1},
        "nav": {"offices": True, "staff": True, "api_clients": True, "access_log": True},
        "nav_active": "offices",
    }


def _app_contexts(world) -> dict:
    """Each app's templates may need more: tests/<app>/template_context.py's template_context(world)."""
    extra = {}
    for path in sorted(Path(__file__).resolve().parent.parent.glob("*/template_context.py")):
        extra.update(import_module(f"tests.{path.parent.name}.template_context").template_context(world))
    return extra


def test_template_list_covers_the_shell():
    assert "base.html" in TEMPLATE_NAMES
    assert "registration/password_reset_email.html" in TEMPLATE_NAMES
    assert len(TEMPLATE_NAMES) >= 40


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_renders_with_minimal_context(world, rf: RequestFactory, name):
    request = rf.get("/offices/?q=kabul&page=2")
    request.user = world.iom_af_staff
    context = {**_context(world), **_app_contexts(world)}
    for language in ("en", "fr", "ar"):
        with translation.override(language):
            html = get_template(name).render(context, request)
        assert html.strip(), language


def test_template_base_is_rtl_in_arabic_only(world, rf):
    request = rf.get("/")
    request.user = AnonymousUser()
    with translation.override("ar"):
        assert 'dir="rtl"' in render_to_string("base.html", {}, request)
    with translation.override("fr"):
        assert 'dir="ltr"' in render_to_string("base.html", {}, request)


def test_template_form_partial_shows_field_and_form_errors(world, rf):
    request = rf.get("/")
    request.user = world.iom_admin
    form = OfficeForm(data={"code": "x" * 40, "name": ""})
    form.is_valid()
    form.add_error(None, "Something is wrong with the whole form.")
    html = render_to_string("_form.html", {"form": form}, request)
    assert "Something is wrong with the whole form." in html
    assert 'id="id_code_error"' in html and 'id="id_name_error"' in html
    assert 'aria-invalid="true"' in html and "is-invalid" in html


def test_template_form_partial_renders_checkboxes_and_passwords(world, rf):
    request = rf.get("/")
    request.user = world.iom_admin
    html = render_to_string("_form.html", {"form": ApiClientCreateForm()}, request)
    assert 'type="checkbox" name="scopes"' in html and 'value="offices:read"' in html
    html = render_to_string("_form.html", {"form": UserCreateForm(data={"password1": "secret"})}, request)
    assert "secret" not in html  # passwords are never echoed back


def test_template_pagination_keeps_filters(world, rf):
    request = rf.get("/offices/?country=AF&page=2")
    request.user = world.iom_admin
    paginator = Paginator(list(range(60)), 25)
    html = render_to_string("_pagination.html", {"page_obj": paginator.page(2)}, request)
    assert "?country=AF&amp;page=3" in html and "?country=AF&amp;page=1" in html
    assert "26–50 of 60" in html


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_translation_catalogue_complete_and_placeholders_kept(language):
    import re

    import polib

    catalogue = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 100
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    for entry in catalogue:
        if entry.msgid_plural:  # every plural form keeps the placeholders
            for form in entry.msgstr_plural.values():
                assert sorted(placeholder.findall(form)) == sorted(placeholder.findall(entry.msgid_plural)), entry.msgid
            continue
        assert sorted(placeholder.findall(entry.msgstr)) == sorted(placeholder.findall(entry.msgid)), entry.msgid
