"""gunicorn settings for production: `gunicorn -c python:xiaoneng.gunicorn_conf xiaoneng.wsgi`.

Every value can be overridden by the environment (GUNICORN_CMD_ARGS works too).
Sync workers: pages are short requests that wait on the database, and a sync worker
cannot hold a transaction across another request. Two workers per core plus one is
gunicorn's own advice for such loads.
"""
import multiprocessing
import os

bind = os.environ.get("XIAONENG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("XIAONENG_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# An exchange batch or an Excel import may take tens of seconds; longer work runs in background loops.
timeout = int(os.environ.get("XIAONENG_WEB_TIMEOUT", 120))
graceful_timeout = 30
# Recycle workers now and then so a slow leak in any library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The reverse proxy in front sets X-Forwarded-*; trust it only from the proxy's address.
forwarded_allow_ips = os.environ.get("XIAONENG_PROXY_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
