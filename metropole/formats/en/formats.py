"""English pages write and read dates day first (25/10/2006), as British English does.

The platform has one English, and Django's "en" is American (10/25/2006). The readers of a
French metropole's English pages are European, and the rest of the platform reads dates day
first whatever the language (the data hub's API, the procedures' date fields): an American
03/12/1998 on a page, typed back into a filter or a form, meant another day."""

from django.conf.locale.en_GB.formats import *  # noqa: F403
