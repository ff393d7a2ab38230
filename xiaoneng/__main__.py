"""The `xiaoneng` console command: Django's manage.py under the project's name."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xiaoneng", *sys.argv[1:]])


if __name__ == "__main__":
    main()
