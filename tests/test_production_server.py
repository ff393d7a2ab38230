"""The production layout really serves: gunicorn with the project's config, production settings,
collected static files, behind a proxy that says the request came over HTTPS."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from test_settings import PRODUCTION


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    request = urllib.request.Request(url, headers={"Host": "xiaoneng.example.gov.cn", "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = {**os.environ, **PRODUCTION, "XIAONENG_VAR_DIR": str(tmp_path), "XIAONENG_BIND": f"127.0.0.1:{port}",
           "XIAONENG_WEB_WORKERS": "2", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for args in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
        done = subprocess.run([sys.executable, "-m", "xiaoneng", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:xiaoneng.gunicorn_conf", "xiaoneng.wsgi:application"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.2)
    yield base
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=40) == 0


def test_gunicorn_serves_the_login_page_and_the_collected_static_files_in_production(production_server):
    status, headers, body = get(f"{production_server}/login/")
    assert status == 200
    assert "登录".encode() in body
    assert headers["Strict-Transport-Security"].startswith("max-age=")

    # The stylesheet the page links to is served by whitenoise under its hashed name, cacheable for ever.
    css = body.decode().split('href="/static/web/css/')[1].split('"')[0]
    assert css != "xiaoneng.css", "production pages link the hashed (manifest) name"
    status, headers, _ = get(f"{production_server}/static/web/css/{css}")
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"]
