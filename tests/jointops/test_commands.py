"""manage.py create_api_client: creates through the service, prints the token once, refuses bad input cleanly."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jointops import services
from jointops.management.commands.create_api_client import Command
from jointops.models import ApiClient


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_client", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_client_prints_token_once_alone_on_stdout(world, settings):
    out, err = _run("--name", "MiMOSA Kabul", "--office", "IOM-AF-KBL", "--scope", "offices:read")
    token = out.strip()
    assert out == f"{token}\n"  # nothing but the token on standard output
    client = ApiClient.objects.get()
    assert services.api_client_authenticate(token=token) == client
    assert (err + out).count(token) == 1
    assert token not in client.token_hash  # stored hashed
    assert "MiMOSA Kabul" in err and "IOM-AF-KBL" in err and "offices:read" in err
    assert (client.name, client.office, client.organisation, client.scopes) == (
        "MiMOSA Kabul",
        world.iom_af,
        world.iom,
        ["offices:read"],
    )
    assert client.created_by is None  # the system
    expected = timezone.now() + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    assert abs(client.expires_at - expected) < dt.timedelta(minutes=1)
    assert client.history.first().history_user is None


def test_create_api_client_expires_days_and_lowercase_office_code(world):
    _run("--name=Gov", "--office=unhcr-af-kbl", "--scope=offices:read", "--scope=offices:read", "--expires-days=30")
    client = ApiClient.objects.get()
    assert client.office == world.unhcr_af
    assert client.scopes == ["offices:read"]
    assert abs(client.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name=X", "--office=NOPE-1", "--scope=offices:read"], "NOPE-1"),
        (["--name=X", "--office=IOM-AF-KBL", "--scope=users:write"], "users:write"),
        (["--name=X", "--office=IOM-AF-KBL", "--scope=offices:read", "--scope=bogus"], "bogus"),
        (["--office=IOM-AF-KBL", "--scope=offices:read"], "--name"),
        (["--name=   ", "--office=IOM-AF-KBL", "--scope=offices:read"], "--name"),
        (["--name=X", "--scope=offices:read"], "--office"),
        (["--name=X", "--office=IOM-AF-KBL"], "--scope"),
        (["--name=X", "--office=IOM-AF-KBL", "--scope=offices:read", "--expires-days=0"], "--expires-days"),
        (["--name=X", "--office=IOM-AF-KBL", "--scope=offices:read", "--expires-days=999999999"], "--expires-days"),
        (["--name=X", "--office=IOM-AF-KBL", "--scope=offices:read", "--expires-days=soon"], "--expires-days"),
    ],
)
def test_create_api_client_bad_input_errors_clearly_writes_nothing(world, args, message):
    with pytest.raises(CommandError) as excinfo:
        _run(*args)
    assert message in str(excinfo.value)
    assert not ApiClient.objects.exists()
    assert not ApiClient.history.exists()


def test_create_api_client_missing_arguments_exit_non_zero_from_command_line():
    # argparse refuses before any database access; from the command line that is exit status 2.
    with pytest.raises(SystemExit) as excinfo:
        Command().run_from_argv(["manage.py", "create_api_client", "--office", "IOM-AF-KBL"])
    assert excinfo.value.code != 0
