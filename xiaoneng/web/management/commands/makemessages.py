"""`makemessages` that also knows the project's gettext aliases.

Some modules import `gettext as _t` (beside a lazy `_`) or `gettext_lazy as _l`; plain
xgettext does not know those names and would silently drop their messages from the
catalogues. This subclass adds them as keywords, so `xiaoneng makemessages -l en`
keeps every message.
"""
from django.core.management.commands.makemessages import Command as DjangoMakeMessages


class Command(DjangoMakeMessages):
    xgettext_options = [*DjangoMakeMessages.xgettext_options, "--keyword=_t", "--keyword=_l"]
