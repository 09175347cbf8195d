"""Two people moving the same case at the same time: one succeeds, the other gets a clear conflict (PostgreSQL,
two real connections, real transactions)."""

import threading

import pytest
from django.db import connection

from jointops.exceptions import DomainError
from returns import services
from returns.choices import Stage
from returns.models import CaseTransition, ReturnCase
from tests.factories.jointops import build_world
from tests.factories.returns import case

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

RACES = 5


def _race(case_id: int, version: int, moves: list[tuple]) -> list:
    barrier = threading.Barrier(len(moves))
    results: list = [None] * len(moves)

    def run(index: int, actor, transition: str, inputs: dict) -> None:
        try:
            barrier.wait(timeout=10)
            c = ReturnCase.objects.get(pk=case_id)
            services.return_case_move(actor=actor, case=c, transition=transition, version=version, **inputs)
            results[index] = "ok"
        except DomainError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *m)) for i, m in enumerate(moves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_moves_at_once_exactly_one_wins_each_time():
    world = build_world()
    winners = 0
    for _ in range(RACES):
        c = case(world.iom_de, world.iom_de_staff)
        results = _race(
            c.pk,
            c.version,
            [
                (world.iom_de_staff, "start_counselling", {}),
                (world.iom_de_manager, "withdraw", {"reason": "The person changed their mind"}),
            ],
        )
        assert results.count("ok") == 1, results
        loser = next(r for r in results if r != "ok")
        assert loser.status_code in (409, 412) and str(loser.message)
        c.refresh_from_db()
        assert c.stage in (Stage.COUNSELLING, Stage.WITHDRAWN)
        assert CaseTransition.objects.filter(case=c).count() == 1 and c.version == 2
        winners += 1
    assert winners == RACES  # P races, 0 lost updates, exactly one winner each
