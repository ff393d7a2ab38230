from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(sender, using="default", verbosity=1, **kwargs):
    """`migrate` also creates the database cache's table (production without Redis uses it; see settings).

    `createcachetable` does nothing for other cache backends or when the table exists, so this is
    safe on every migrate; it saves a deploy step that, forgotten, would fail every rate-limited request.
    """
    from django.core.management import call_command

    if sender.label != "contenttypes":  # once per migrate (the signal comes per app that has models; web has none)
        return

    call_command("createcachetable", database=using, verbosity=0)


class WebConfig(AppConfig):
    name = "xiaoneng.web"
    label = "web"

    def ready(self):
        from xiaoneng.conf import _overrides

        post_migrate.connect(create_cache_table, dispatch_uid="xiaoneng.web.create_cache_table")
        # Read the province's rules file now: a wrong value stops every process (web worker, loop,
        # command) at start-up with its message, instead of failing the first request that needs it.
        _overrides()
