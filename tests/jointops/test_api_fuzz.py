"""Issue 8 (Proof): schemathesis runs every operation of the OpenAPI schema with an authenticated partner client.

The world holds data in every app (tests.factories build_world, the demo seeders of each app, and a household,
documents, a share, an operation, an agreement, a consultation, a case with measures and visits). A partner system
(jointops.models.ApiClient) at IOM headquarters holds every scope (access.all_scopes()). Each operation is tried
with cases schemathesis generates from the schema (valid and invalid inputs); path parameters are mostly drawn from
the ids that exist, so the cases reach real records; PUT/PATCH often carry the record's real ETag.

Checks on every response: no server error (5xx), the status code is documented, the content type is the documented
one, the body conforms to the documented schema. Each case runs in a savepoint rolled back afterwards, so the world
stays the same for every case.

Deterministic (hypothesis derandomize), bounded (API_FUZZ_MAX_EXAMPLES cases per operation, default 12), no
hypothesis database written (database=None). The number of cases tried per operation and in total is printed in the
terminal summary of pytest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from beneficiaries import services as beneficiary_services
from jointops import access, services
from returns import services as return_services
from tests.factories.beneficiaries import person
from tests.factories.jointops import OrganisationFactory, build_world
from tests.factories.returns import case, scheduled

pytestmark = pytest.mark.django_db

# No hypothesis files in the repository: its caches go to the temporary directory (and database=None below).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "jointops-hypothesis")

# Issue 8: bounded — cases per operation (129 operations; the default keeps the run under ~3 minutes on PostgreSQL).
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_MAX_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Keys of a JSON body whose values are ids (or codes, numbers) another operation's path may take.
ID_KEYS = re.compile(r"^(id|.+_id|number|code|person|beneficiary)$")


class _Summary:
    """Prints the cases tried per operation and in total at the end of the pytest run (past output capture)."""

    def __init__(self, tried: Counter):
        self.tried = tried

    def pytest_terminal_summary(self, terminalreporter):
        if not self.tried:
            return
        terminalreporter.section("API fuzz (schemathesis)")
        for label, count in sorted(self.tried.items()):
            terminalreporter.write_line(f"{count:5d}  {label}")
        terminalreporter.write_line(
            f"{sum(self.tried.values())} cases tried over {len(self.tried)} operations "
            f"(at most {MAX_EXAMPLES} generated per operation, plus the schema's examples)"
        )


def _world():
    """Data in every app, through the services (so the rules, keys and audit trail hold)."""
    w = build_world()
    call_command("seed_demo", stdout=StringIO())  # people, cases, LoUs in every state, pre-departure lists
    staff_af, staff_de = w.iom_af_staff, w.iom_de_staff
    head = person(
        w.iom_af,
        actor=staff_af,
        sharing_basis="consent",
        consent_date=timezone.localdate(),
        consent_scope="Return counselling with UNHCR",
    )
    child = person(w.iom_af, actor=staff_af, date_of_birth=dt.date(2015, 5, 5))
    household = beneficiary_services.household_create(actor=staff_af, head=head, notes="Family of five")
    beneficiary_services.household_add_member(
        actor=staff_af, household=household, beneficiary=child, relationship="child"
    )
    beneficiary_services.document_add(
        actor=staff_af, beneficiary=head, document_type="passport", number="P123", issuing_country="AF"
    )
    beneficiary_services.beneficiary_share(actor=staff_af, beneficiary=head, office=w.unhcr_af)
    person(w.iom_af, actor=staff_af, category_code="migrant")
    c = case(w.iom_af, staff_af, principal=head)
    return_services.return_case_add_member(actor=staff_af, case=c, beneficiary=child)
    scheduled(w.iom_de, staff_de, days=5)
    return_services.operation_create(
        actor=w.unhcr_af_staff, office=w.unhcr_af, title="Return to Herat", kind="organised", country_of_origin="AF"
    )
    parties = [w.unhcr, w.iom, OrganisationFactory(code="GOV-AF"), OrganisationFactory(code="GOV-DE")]
    return_services.agreement_create(
        actor=w.iom_de_manager,
        office=w.iom_de,
        parties=parties,
        title="Afghans from Germany",
        valid_from=timezone.localdate(),
        kind="quadripartite",
        country_of_origin="AF",
        host_country="DE",
    )
    services.consultation_record(
        actor=staff_af,
        recorded_by_office=w.iom_af,
        offices=[w.unhcr_af],
        held_on=timezone.localdate(),
        participants="Both heads of office",
        subject_kind="other",
        subject="Monthly meeting",
        linked=c,
    )
    return w


def _schema_dict() -> dict:
    """The schema `manage.py spectacular` writes, as JSON (lazy strings and decimals rendered)."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


def _ids_in(body, found: dict[str, set]) -> None:
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, int | str) and not isinstance(value, bool) and ID_KEYS.match(key):
                found.setdefault(key, set()).add(value)
            else:
                _ids_in(value, found)
    elif isinstance(body, list):
        for item in body:
            _ids_in(item, found)


class _Known:
    """Values of path parameters that exist, harvested through the API itself with the partner's token."""

    def __init__(self, client, headers):
        self.client, self.headers, self.cache = client, headers, {}

    def _get(self, path: str):
        if path not in self.cache:
            response = self.client.get(path, headers=self.headers)
            found: dict[str, set] = {}
            if response.status_code == 200 and response.mimetype == "application/json":
                _ids_in(response.get_json(), found)
            self.cache[path] = {key: sorted(values, key=str) for key, values in found.items()}
        return self.cache[path]

    def first(self, collection: str) -> list:
        """Ids of the records the list endpoint `collection` returns."""
        return self._get(collection).get("id", []) + self._get(collection).get("code", [])

    def nested(self, detail: str, name: str) -> list:
        """Values found in the detail body at `detail` for the path parameter `name` (e.g. document_id)."""
        body = self._get(detail)
        candidates = []
        for key in (name, name.removesuffix("_id"), "id", "number", "code", "person"):
            candidates += body.get(key, [])
        return list(dict.fromkeys(candidates))


@pytest.fixture
def wsgi_app(settings):
    """The real WSGI application, in the test's transaction: like django.test.Client, keep the connection open
    between requests (close_old_connections would drop the test transaction's connection)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": "1000000/min"}}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_operation_answers_within_the_schema_and_never_5xx(wsgi_app, request):
    w = _world()
    _, token = services.api_client_create(
        actor=w.iom_admin, name="Fuzzing partner", office=w.iom_hq, scopes=access.all_scopes()
    )
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_dict(_schema_dict())
    schema.app = wsgi_app
    known = _Known(Client(wsgi_app), headers)
    tried: Counter = Counter()
    if not request.config.pluginmanager.has_plugin("jointops-api-fuzz-summary"):
        request.config.pluginmanager.register(_Summary(tried), "jointops-api-fuzz-summary")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100  # every operation of the schema, not a few

    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        try:
            _fuzz(operation, label, known, headers, tried)
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then fail once
            failures.append(f"{label}: {str(exc)[:3000]}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation, label: str, known: _Known, headers: dict, tried: Counter) -> None:
    template = operation.path
    params = re.findall(r"{(\w+)}", template)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(data=st.data())
    def run(data):
        case_ = data.draw(strategy)
        _use_known_ids(data, case_, template, params, known)
        # Half the time PUT/PATCH send the record's real version, so the update itself runs.
        if (
            operation.method.upper() in ("PUT", "PATCH")
            and "If-Match" in (case_.headers or {})
            and data.draw(st.booleans())
        ):
            detail = template.split("{id}")[0] + "{id}/"
            etag = _etag(known.client, detail.format(**case_.path_parameters), headers)
            if etag:
                case_.headers["If-Match"] = etag
        tried[label] += 1
        with transaction.atomic():
            try:
                response = case_.call(headers=headers)
                case_.validate_response(response, checks=CHECKS, headers=headers)
            finally:
                transaction.set_rollback(True)

    run()


def _use_known_ids(data, case_, template: str, params: list[str], known: _Known) -> None:
    """Most of the time, replace each generated path parameter by a value that exists."""
    if not params or case_.path_parameters is None:
        return
    for n, name in enumerate(params):
        prefix = template.split("{" + name + "}")[0]
        filled = prefix.format(**case_.path_parameters)
        if n == 0:
            pool = known.first(filled)
        else:  # e.g. {document_id}: from the parent's detail, or from the list the prefix names
            parent = template.split("{" + params[0] + "}")[0].format() + str(case_.path_parameters[params[0]]) + "/"
            pool = known.nested(parent, name) + known.nested(filled, name)
        if pool and data.draw(st.integers(0, 3)):  # 3 in 4: a value that exists
            case_.path_parameters[name] = data.draw(st.sampled_from(pool))


def _etag(client, path: str, headers: dict) -> str | None:
    response = client.get(path, headers=headers)
    return response.headers.get("ETag") if response.status_code == 200 else None
