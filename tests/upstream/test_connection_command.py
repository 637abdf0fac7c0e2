import pytest
from django.core.management import CommandError, call_command

from jobsite.upstream.models import Connection


def test_it_creates_a_connection_with_the_token_from_the_environment(db, monkeypatch, capsys):
    monkeypatch.setenv("JOBSITE_UPSTREAM_TOKEN", "env-token")
    call_command("connection", "Prod", "--url", "https://immuta.example.com", "--timeout", "7", "--poll-interval", "3")
    connection = Connection.objects.get(name="Prod")
    assert (connection.base_url, connection.timeout, connection.poll_interval) == (
        "https://immuta.example.com",
        7.0,
        3,
    )
    assert connection.token == "env-token"
    assert "env-token" not in capsys.readouterr().out


def test_it_updates_an_existing_connection_and_keeps_its_token(db, monkeypatch):
    monkeypatch.setenv("JOBSITE_UPSTREAM_TOKEN", "first")
    call_command("connection", "Prod", "--url", "https://a.example.com")
    monkeypatch.delenv("JOBSITE_UPSTREAM_TOKEN")
    call_command("connection", "Prod", "--url", "https://a.example.com/", "--poll-interval", "5")
    connection = Connection.objects.get(name="Prod")
    assert (connection.base_url, connection.poll_interval, connection.token) == ("https://a.example.com/", 5, "first")


def test_it_refuses_a_new_connection_without_a_token(db, monkeypatch):
    monkeypatch.delenv("JOBSITE_UPSTREAM_TOKEN", raising=False)
    with pytest.raises(CommandError, match="JOBSITE_UPSTREAM_TOKEN"):
        call_command("connection", "Prod", "--url", "https://immuta.example.com")


@pytest.mark.parametrize(
    "args",
    [["--url", "ftp://x.example.com"], ["--url", "https://x.example.com", "--poll-interval", "0"]],
)
def test_it_refuses_bad_values(db, monkeypatch, args):
    monkeypatch.setenv("JOBSITE_UPSTREAM_TOKEN", "t")
    with pytest.raises(CommandError):
        call_command("connection", "Prod", *args)
    assert not Connection.objects.exists()


def test_it_has_no_token_option():
    with pytest.raises(CommandError):
        call_command("connection", "Prod", "--url", "https://x.example.com", "--token", "t")


def test_it_refuses_to_move_a_connection_without_its_token_again(monkeypatch, db):
    monkeypatch.setenv("JOBSITE_UPSTREAM_TOKEN", "first-token")
    call_command("connection", "Prod", "--url", "https://immuta.example.com")
    monkeypatch.delenv("JOBSITE_UPSTREAM_TOKEN")
    with pytest.raises(CommandError, match="The URL changed: set JOBSITE_UPSTREAM_TOKEN"):
        call_command("connection", "Prod", "--url", "https://elsewhere.example.net")
    assert Connection.objects.get().base_url == "https://immuta.example.com"
    call_command("connection", "Prod", "--url", "https://immuta.example.com", "--timeout", "4")  # same place: fine
