"""Sign-in throttling (django-axes): repeated failures lock a user name and an address for a while."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

LOGIN = "/accounts/login/"


def sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def analyst(django_user_model):
    return django_user_model.objects.create_user("analyst", password="right-pass-123")


def test_it_locks_a_user_name_after_repeated_failures_even_against_the_right_password(client, analyst, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "analyst", f"wrong-{attempt}", address=f"10.0.0.{attempt + 1}").status_code == 200
    assert sign_in(client, "analyst", "wrong-again", address="10.0.0.99").status_code == 429  # the last straw
    response = sign_in(client, "analyst", "right-pass-123", address="10.9.9.9")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused" in page and "15 min" in page
    assert "_auth_user_id" not in client.session


def test_it_locks_an_address_that_tries_many_user_names(client, analyst, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess-{attempt}", "whatever", address="10.6.6.6")
    assert sign_in(client, "analyst", "right-pass-123", address="10.6.6.6").status_code == 429
    assert sign_in(client, "analyst", "right-pass-123", address="10.7.7.7").status_code == 302  # elsewhere: fine


def test_a_few_typos_then_the_right_password_sign_in_and_start_afresh(client, analyst, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "analyst", f"typo-{attempt}")
    assert sign_in(client, "analyst", "right-pass-123").status_code == 302
    assert not AccessAttempt.objects.filter(username="analyst").exists()


def test_an_admin_can_unlock(client, analyst, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "analyst", f"wrong-{attempt}")
    assert sign_in(client, "analyst", "right-pass-123").status_code == 429
    call_command("axes_reset_username", "analyst")
    call_command("axes_reset_ip", "10.0.0.1")
    assert sign_in(client, "analyst", "right-pass-123").status_code == 302


def test_staff_see_the_attempts_in_admin(admin_client, client, analyst):
    sign_in(client, "analyst", "wrong")
    page = admin_client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "analyst" in page
