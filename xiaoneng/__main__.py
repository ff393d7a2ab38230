"""The `xiaoneng` console command: Django's manage.py under the project's name.

Everything a command writes is audited as channel "command", attributed to the
operating-system user who ran it.
"""
import getpass
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from xiaoneng.audit.log import acting_as

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    with acting_as(None, channel="command", label=f"cli:{who}"):
        execute_from_command_line(["xiaoneng", *sys.argv[1:]])


if __name__ == "__main__":
    main()
