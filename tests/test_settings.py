"""Production settings: `check --deploy` is clean, passwords use Argon2, secrets are required."""
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "XIAONENG_DEBUG": "0",
    "XIAONENG_SECRET_KEY": "k" * 20 + "a-long-random-secret-for-the-deploy-check-0123456789",
    "XIAONENG_ALLOWED_HOSTS": "xiaoneng.example.gov.cn",
    "XIAONENG_IDENTITY_KEYS": "q2Hq0N2f0Xq3b0fYk0mU8a3bKx5mQnqv0g6g0b1y2cE=",
    "XIAONENG_AUDIT_KEY": "a-long-random-audit-key-kept-outside-the-database-0123456789",
}


def run(args, env, tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "xiaoneng", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XIAONENG_VAR_DIR": str(tmp_path), **env},
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PRODUCTION, "XIAONENG_SECRET_KEY": ""}
    result = run(["check"], env, tmp_path)
    assert result.returncode != 0 and "XIAONENG_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_identity_keys(tmp_path):
    env = {**PRODUCTION, "XIAONENG_IDENTITY_KEYS": ""}
    result = run(["check"], env, tmp_path)
    assert result.returncode != 0 and "XIAONENG_IDENTITY_KEYS" in result.stderr


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    env = {**PRODUCTION, "XIAONENG_AUDIT_KEY": ""}
    result = run(["check"], env, tmp_path)
    assert result.returncode != 0 and "XIAONENG_AUDIT_KEY" in result.stderr


def test_the_strongest_hasher_comes_first():
    # tests swap in MD5 for speed (conftest); the project setting itself is read from the module
    from xiaoneng import settings as project

    assert project.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_time_zone_and_language_defaults():
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.LANGUAGE_CODE == "zh-hans" and settings.USE_TZ


def test_pages_open_in_chinese_even_for_an_english_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"


def test_the_api_follows_the_clients_language(client):
    response = client.get("/api/v1/deadline/?start=2026-02-30&days=1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers.get("Content-Language") == "en"
