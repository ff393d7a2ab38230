"""The `xiaoneng` console command: Django's manage.py under the project's name.

Everything a command writes is audited as channel "command", attributed to the
operating-system user who ran it. A command that fails because the database is not set
up (or not reachable), or because the configuration is wrong (a rules file value of the wrong kind), says
in one line what to do and exits 1, without a traceback (`--traceback` shows it).
"""
import getpass
import os
import sys

# Commands the issues name with a hyphen; Django's command modules cannot have one.
ALIASES = {"exchange-source": "exchange_source", "open311-key": "open311_key"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # e.g. a wrong value in the rules file: what to fix, in one line
        if "--traceback" in sys.argv:
            raise
        sys.stderr.write(f"xiaoneng: {exc}\n")
        sys.exit(1)
    from xiaoneng.audit.log import acting_as

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    from django.db import DatabaseError

    args = sys.argv[1:]
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    try:
        with acting_as(None, channel="command", label=f"cli:{who}"):
            execute_from_command_line(["xiaoneng", *args])
    except DatabaseError:
        from xiaoneng.lib.dbready import problem

        message = None if "--traceback" in args else problem()
        if message is None:  # the database is set up: a real error, shown as such
            raise
        prog = f"xiaoneng {args[0]}" if args else "xiaoneng"
        sys.stderr.write(f"{prog}: {message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
