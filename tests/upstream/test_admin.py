"""Connections in Django admin: the token is write-only and encrypted; the test action reports."""

import pytest
from django.urls import reverse

from jobsite.upstream.models import Connection


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def form_data(**overrides):
    data = {
        "name": "Production",
        "base_url": "https://immuta.example.com",
        "auth_method": "bearer",
        "timeout": "10",
        "poll_interval": "2",
        "batch_size": "200",
        "terminal_recheck": "600",
        "token": "s3cret-token",
    }
    data.update(overrides)
    return data


def test_it_stores_the_token_encrypted(admin_client):
    response = admin_client.post(reverse("admin:upstream_connection_add"), form_data())
    assert response.status_code == 302
    connection = Connection.objects.get(name="Production")
    assert "s3cret-token" not in connection.sealed_token
    assert connection.token == "s3cret-token"


def test_it_never_shows_the_token_back(admin_client):
    admin_client.post(reverse("admin:upstream_connection_add"), form_data())
    connection = Connection.objects.get()
    page = admin_client.get(reverse("admin:upstream_connection_change", args=[connection.pk])).content.decode()
    assert "s3cret-token" not in page
    assert connection.sealed_token not in page


def test_it_keeps_the_old_token_when_the_field_is_left_empty(admin_client):
    admin_client.post(reverse("admin:upstream_connection_add"), form_data())
    connection = Connection.objects.get()
    admin_client.post(
        reverse("admin:upstream_connection_change", args=[connection.pk]), form_data(token="", timeout="5")
    )
    connection.refresh_from_db()
    assert (connection.token, connection.timeout) == ("s3cret-token", 5.0)


def test_it_requires_a_token_for_a_new_connection(admin_client):
    response = admin_client.post(reverse("admin:upstream_connection_add"), form_data(token=""))
    assert "A new connection needs an API token." in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("base_url", "ftp://immuta.example.com"), ("base_url", "not a url"), ("poll_interval", "0")],
)
def test_it_refuses_bad_settings(admin_client, field, value):
    response = admin_client.post(reverse("admin:upstream_connection_add"), form_data(**{field: value}))
    assert response.status_code == 200
    assert not Connection.objects.exists()


def run_test_action(admin_client, connection):
    return admin_client.post(
        reverse("admin:upstream_connection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk]},
        follow=True,
    ).content.decode()


def test_its_test_action_reports_ok(admin_client, connection):
    assert "Test simulator: Connected" in run_test_action(admin_client, connection)


def test_its_test_action_reports_a_rejected_token(admin_client, connection):
    connection.token = "wrong"
    connection.save()
    page = run_test_action(admin_client, connection)
    assert "rejected the API token" in page
    assert "wrong" not in page.split("rejected the API token")[1][:200]


def test_its_test_action_reports_unreachable(admin_client, connection):
    connection.base_url = "http://127.0.0.1:9"
    connection.save()
    assert "Could not reach" in run_test_action(admin_client, connection)


def test_its_test_action_reports_a_bad_response(admin_client, connection, simulator):
    simulator.set_fault("malformed_json")
    assert "could not read" in run_test_action(admin_client, connection)


def test_it_asks_for_the_token_again_when_the_base_url_changes(admin_client):
    admin_client.post(reverse("admin:upstream_connection_add"), form_data())
    connection = Connection.objects.get()
    url = reverse("admin:upstream_connection_change", args=[connection.pk])
    response = admin_client.post(url, form_data(base_url="https://elsewhere.example.net", token=""))
    assert response.status_code == 200  # the form again, with the error
    assert "The base URL changed: enter the API token again." in response.content.decode()
    connection.refresh_from_db()
    assert connection.base_url == "https://immuta.example.com"  # nothing saved

    moved = admin_client.post(url, form_data(base_url="https://elsewhere.example.net", token="new-token"))
    assert moved.status_code == 302
    connection.refresh_from_db()
    assert (connection.base_url, connection.token) == ("https://elsewhere.example.net", "new-token")


def test_it_keeps_the_token_when_other_settings_change(admin_client):
    admin_client.post(reverse("admin:upstream_connection_add"), form_data())
    connection = Connection.objects.get()
    url = reverse("admin:upstream_connection_change", args=[connection.pk])
    assert (
        admin_client.post(url, form_data(base_url="https://immuta.example.com/", timeout="5", token="")).status_code
        == 302
    )
    connection.refresh_from_db()
    assert (connection.timeout, connection.token) == (5.0, "s3cret-token")
