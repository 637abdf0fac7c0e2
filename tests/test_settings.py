from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from jobsite.env import envbool, envint, envlist, envstr


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("off", False), ("0", False)])
def test_envbool_reads_booleans(monkeypatch, value, expected):
    monkeypatch.setenv("FLAG", value)
    assert envbool("FLAG", not expected) is expected


def test_envbool_fails_loudly_on_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        envbool("FLAG", False)


def test_envint_checks_number_and_minimum(monkeypatch):
    monkeypatch.setenv("N", "x")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        envint("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        envint("N", 1, minimum=1)
    monkeypatch.setenv("N", "7")
    assert envint("N", 1, minimum=1) == 7


def test_envstr_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("TOKEN_FILE", str(secret))
    assert envstr("TOKEN") == "from-file"
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        envstr("TOKEN")


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com")
    assert envlist("HOSTS") == ["a.example.com", "b.example.com"]


def test_it_passes_the_deploy_checks_with_production_variables(tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x" * 60 + "production-grade-secret-key-value",
        "JOBSITE_ENCRYPTION_KEY": "y" * 40,
        "ALLOWED_HOSTS": "jobs.example.com",
        "SECURE_COOKIES": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "JOBSITE_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
