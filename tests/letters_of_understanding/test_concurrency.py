"""Two parties acting on the same letter at the same moment (PostgreSQL, real connections, real transactions)."""

import threading

import pytest
from django.db import connection

from jointops.choices import Role
from jointops.exceptions import DomainError
from letters_of_understanding import content, services
from letters_of_understanding.choices import AmendmentStatus, LouStatus
from letters_of_understanding.models import Amendment, LetterOfUnderstanding, LouVersion, Signature
from tests.factories import letters_of_understanding as f
from tests.factories.jointops import build_world, staff

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

RACES = 3


def _race(calls: list) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            results[index] = "ok"
        except DomainError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _sign(actor, lou_id):
    return lambda: services.lou_sign(
        actor=actor, lou=LetterOfUnderstanding.objects.get(pk=lou_id), signatory_name=actor.username
    )


def test_both_parties_signing_at_once_enter_into_force_exactly_once():
    world = build_world()
    for _ in range(RACES):
        lou = f.draft(world)
        results = _race([_sign(world.unhcr_af_manager, lou.pk), _sign(world.iom_af_manager, lou.pk)])
        assert results == ["ok", "ok"]
        lou.refresh_from_db()
        assert lou.status == LouStatus.IN_FORCE and lou.text_version == 1
        assert LouVersion.objects.filter(lou=lou).count() == 1 and lou.signatures.count() == 2


def test_two_managers_of_one_party_signing_at_once_leave_one_signature():
    world = build_world()
    deputy = staff(world.unhcr_af, Role.OFFICE_MANAGER, username="unhcr_deputy")
    for _ in range(RACES):
        lou = f.draft(world)
        results = _race([_sign(world.unhcr_af_manager, lou.pk), _sign(deputy, lou.pk)])
        assert results.count("ok") == 1, results
        loser = next(r for r in results if r != "ok")
        assert loser.status_code == 409 and "already signed" in str(loser.message)
        assert Signature.objects.filter(lou=lou).count() == 1
        assert LetterOfUnderstanding.objects.get(pk=lou.pk).status == LouStatus.PARTLY_SIGNED


def test_approve_and_withdraw_of_one_amendment_at_once_exactly_one_wins():
    world = build_world()
    for _ in range(RACES):
        lou = f.in_force(world)
        proposal = {**content.content_of(lou), "region": "Central Asia"}
        amendment = services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=proposal, rationale="r")
        results = _race(
            [
                lambda a=amendment.pk: services.amendment_approve(
                    actor=world.unhcr_af_manager, amendment=Amendment.objects.get(pk=a)
                ),
                lambda a=amendment.pk: services.amendment_withdraw(
                    actor=world.iom_af_staff, amendment=Amendment.objects.get(pk=a)
                ),
            ]
        )
        assert results.count("ok") == 1, results
        amendment.refresh_from_db()
        lou.refresh_from_db()
        if amendment.status == AmendmentStatus.APPROVED:
            assert lou.text_version == 2 and lou.region == "Central Asia"
        else:
            assert amendment.status == AmendmentStatus.WITHDRAWN and lou.text_version == 1 and lou.region == ""
