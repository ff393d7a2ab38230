"""Rate limits hold across web workers in the production layout: every worker process counts in one shared cache."""
import os
import socket
import subprocess
import sys

import pytest
from test_settings import PRODUCTION

COUNT = """
import django, sys
django.setup()
from django.conf import settings
from xiaoneng.approvals import public
for _ in range(int(sys.argv[1])):
    public.count_failure("203.0.113.9")
print(settings.CACHES["default"]["BACKEND"], public.is_throttled("203.0.113.9"))
"""


def worker(env, failures: int) -> str:
    """A separate Python process, as a gunicorn worker is, that records `failures` failed public look-ups."""
    done = subprocess.run([sys.executable, "-c", COUNT, str(failures)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def production_env(tmp_path):
    env = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "xiaoneng.settings",
           "XIAONENG_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("XIAONENG_CACHE_URL", None)
    return env


def test_without_a_cache_url_production_workers_share_the_database_cache_and_one_limit(production_env):
    migrated = subprocess.run([sys.executable, "-m", "xiaoneng", "migrate", "--no-input", "-v", "0"],
                              env=production_env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr  # `migrate` alone creates the cache table
    # The public look-up allows 10 failures per address and window: 6 in one worker and 4 in another reach it.
    assert worker(production_env, 6) == "django.core.cache.backends.db.DatabaseCache False"
    assert worker(production_env, 4) == "django.core.cache.backends.db.DatabaseCache True"
    assert worker(production_env, 0).endswith("True")


def test_with_a_redis_cache_url_production_workers_share_one_limit(production_env):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    # A database number of its own and a key prefix of this test's own, so nothing else's counts interfere.
    env = {**production_env, "XIAONENG_CACHE_URL": f"redis://127.0.0.1:6379/{os.getpid() % 15 + 1}",
           "XIAONENG_CACHE_PREFIX": os.path.basename(production_env["XIAONENG_VAR_DIR"])}
    assert worker(env, 7) == "django.core.cache.backends.redis.RedisCache False"
    assert worker(env, 3) == "django.core.cache.backends.redis.RedisCache True"
