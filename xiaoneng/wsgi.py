import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")


def _application():
    """Django's WSGI handler (as get_wsgi_application() makes it) with the request class that notes an
    unreadable Content-Type instead of failing before any middleware (xiaoneng.web.middleware)."""
    django.setup(set_prefix=False)
    from xiaoneng.web.middleware import GuardedWSGIHandler

    return GuardedWSGIHandler()


application = _application()
