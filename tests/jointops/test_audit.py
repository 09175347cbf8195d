"""Audit trail (who changed what) and the append-only access log."""

import pytest
from django.db import DatabaseError, connection, transaction

from jointops import audit, services
from jointops.models import AccessLog, Office


def test_office_update_by_user_records_history_user_and_change(world):
    services.office_update(actor=world.iom_admin, office=world.iom_de, name="IOM Berlin")
    latest = world.iom_de.history.first()
    assert latest.history_user == world.iom_admin
    assert latest.history_api_client is None
    assert latest.name == "IOM Berlin"
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["name"]


def test_change_by_partner_client_records_the_client_not_a_user(world):
    client, _ = services.api_client_create(
        actor=world.iom_admin, name="Sync", office=world.iom_af, scopes=["offices:read"]
    )
    with audit.acting_as(client):
        office = Office.objects.get(pk=world.iom_de.pk)
        office.name = "Changed by sync"
        office.save()
    latest = office.history.first()
    assert latest.history_api_client == client
    assert latest.history_user is None


def test_system_change_records_no_actor(world):
    services.office_update(actor=None, office=world.iom_de, name="System rename")
    latest = world.iom_de.history.first()
    assert latest.history_user is None and latest.history_api_client is None


def test_api_client_history_never_stores_the_token_hash(world):
    client, _ = services.api_client_create(
        actor=world.iom_admin, name="Sync", office=world.iom_af, scopes=["offices:read"]
    )
    assert not hasattr(client.history.first(), "token_hash")


def test_log_access_stores_ids_and_actor_only(world):
    entry = audit.log_access(
        actor=world.iom_af_staff,
        action="export",
        resource="office",
        object_ids=[world.iom_af.pk, world.iom_de.pk],
        purpose="test",
    )
    assert entry.user == world.iom_af_staff and entry.api_client is None
    assert entry.object_ids == [str(world.iom_af.pk), str(world.iom_de.pk)] and entry.record_count == 2


def test_access_log_refuses_update_and_delete_through_the_orm(world):
    entry = audit.log_access(actor=world.iom_af_staff, action="view", resource="office", object_ids=[1])
    entry.purpose = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).update(purpose="x")
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()


RAW_UPDATE = "UPDATE jointops_accesslog SET purpose = 'x' WHERE id = %s"
RAW_DELETE = "DELETE FROM jointops_accesslog WHERE id = %s"


def _raw_sql_is_refused(sql: str) -> None:
    entry = AccessLog.objects.create(action="view", resource="office", object_ids=["1"], record_count=1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert AccessLog.objects.get(pk=entry.pk).purpose == ""


@pytest.mark.django_db(transaction=True)
def test_access_log_refuses_raw_sql_update():
    _raw_sql_is_refused(RAW_UPDATE)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_access_log_refuses_raw_sql_delete_on_postgresql():
    _raw_sql_is_refused(RAW_DELETE)
