#!/usr/bin/env python3
"""The two Quick-start commands. Needs only Python >= 3.11.

    python3 dev.py demo   # venv, install, migrate SQLite, seed the demo province,
                          # then gunicorn + monitoring loop + notification sender on http://127.0.0.1:8000
    python3 dev.py test   # venv, install with test extras (and Debian's Chromium when
                          # possible), then lint and the whole test suite

Both are idempotent: a second run reuses the virtual environment and the database.
Set DATABASE_URL to run either against PostgreSQL instead of the embedded SQLite.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run(*args, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is run by whatever python3 the machine has
        sys.exit(f"Xiaoneng needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        step(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    marker = VENV / f".installed{extras or '-base'}"
    pyproject = ROOT / "pyproject.toml"
    if marker.exists() and marker.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    step("installing Xiaoneng and its pinned dependencies")
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f".{extras}")
    marker.touch()


# Debian packages: a CJK font so that Chinese renders in PDFs and screenshots instead of empty boxes, Pango for
# WeasyPrint's PDFs, and for the tests the browser that Playwright drives.
DOCUMENT_PACKAGES = ["fonts-noto-cjk", "libpango-1.0-0", "libpangoft2-1.0-0"]
BROWSER_PACKAGES = ["chromium"]


def _installed(package: str) -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return status.stdout.endswith("installed")


def ensure_system_packages(packages: list[str]) -> None:
    """Install the Debian packages that are missing, when we may (root with apt)."""
    if not shutil.which("dpkg-query") or os.environ.get("XIAONENG_SKIP_BROWSER_INSTALL"):
        return
    missing = [name for name in packages if not _installed(name)]
    if missing and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        step(f"installing Debian's {', '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, env=env)
    for name in missing:
        if not _installed(name):
            print(f"note: {name} is not installed (apt-get install {name}); what needs it is skipped or fails",
                  flush=True)


def xiaoneng(*args) -> None:
    run(BIN / "xiaoneng", *args)


def demo() -> None:
    ensure_venv()
    ensure_system_packages(DOCUMENT_PACKAGES)
    step("migrating the database")
    xiaoneng("migrate", "--no-input", "-v", "0")
    step("loading the demo province")
    xiaoneng("seed", "--scale", "demo")
    step("starting the monitoring loop, the notification sender, the roll-up refresh, the complaint sweep and "
         "the web server (gunicorn) on http://127.0.0.1:8000 (Ctrl-C stops all)")
    background = [
        subprocess.Popen([str(BIN / "xiaoneng"), "runclocks", "--interval", "30"], cwd=ROOT),
        subprocess.Popen([str(BIN / "xiaoneng"), "notify", "send", "--every", "5"], cwd=ROOT),
        subprocess.Popen([str(BIN / "xiaoneng"), "stats", "refresh", "--every", "300"], cwd=ROOT),
        subprocess.Popen([str(BIN / "xiaoneng"), "complaints", "sweep", "--every", "3600"], cwd=ROOT),
    ]
    signal.signal(signal.SIGTERM, _as_ctrl_c)  # `kill` stops the loops too, not only Ctrl-C
    try:
        # The production server, as in the README's production layout; two workers are plenty for a demo.
        run(BIN / "gunicorn", "-c", "python:xiaoneng.gunicorn_conf", "--workers", "2", "xiaoneng.wsgi:application")
    except (KeyboardInterrupt, subprocess.CalledProcessError):
        pass
    finally:
        for process in background:
            process.terminate()  # each ends between two rounds, within a second when waiting
        for process in background:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _as_ctrl_c(*_args) -> None:
    raise KeyboardInterrupt


def test(pytest_args: list[str]) -> int:
    ensure_venv("[test]")
    ensure_system_packages(DOCUMENT_PACKAGES + BROWSER_PACKAGES)
    step("ruff")
    run(BIN / "ruff", "check", "xiaoneng", "tests", "bench", "dev.py")
    step("makemigrations --check (models and migrations agree)")
    xiaoneng("makemigrations", "--check", "--dry-run", "-v", "0")
    step(f"pytest on {os.environ.get('DATABASE_URL', 'SQLite').split('@')[-1]}")
    # The whole suite runs on one worker per core (pytest-xdist; each has its own test database);
    # a chosen file or test runs in this process.
    args = pytest_args or ["-n", "auto"]
    return subprocess.run([str(BIN / "pytest"), *args], cwd=ROOT).returncode


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test"}:
        sys.exit(__doc__)
    try:
        if sys.argv[1] == "demo":
            demo()
        else:
            sys.exit(test(sys.argv[2:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(f"failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")


if __name__ == "__main__":
    main()
