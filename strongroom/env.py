"""The environment settings are read from: django-environ's FileAwareEnv (any VAR may
come from the file VAR_FILE names), strict about what a hand-written env file gets
wrong. Free of Django settings, so settings can use it while they load."""
from __future__ import annotations

import re

import environ
from django.core.exceptions import ImproperlyConfigured
from environ.fileaware_mapping import FileAwareMapping

INLINE_COMMENT = re.compile(r"\s#")


def without_line_ending(text: str) -> str:
    """`openssl rand -hex 24 > file` and editors end a file with a newline; the secret
    is the line. Only one is removed: anything else is part of the value."""
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[:-len(ending)]
    return text


class SecretFileMapping(FileAwareMapping):
    """os.environ, where VAR_FILE=/path gives VAR the file's content (its line ending
    removed), and a file that cannot be read is named, not a traceback."""

    def __getitem__(self, key: str) -> str:
        path = self.env.get(f"{key}_FILE")
        if not path:
            return self.env[key]
        try:
            return without_line_ending(super().__getitem__(key))
        except OSError as exc:
            raise ImproperlyConfigured(f"{key}_FILE={path}: cannot read it "
                                       f"({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ImproperlyConfigured(f"{key}_FILE={path}: not UTF-8 text") from None


class StrictEnv(environ.FileAwareEnv):
    ENVIRON = SecretFileMapping()

    def get_value(self, var, cast=None, default=environ.Env.NOTSET,
                  parse_default=False):
        if self.ENVIRON.env.get(f"{var}_FILE"):
            # A secret is taken as it is: django-environ would read a leading "$" as
            # the name of another variable.
            return self.parse_value(self.ENVIRON[var], cast)
        # Env files have no inline comments (`KEY=value  # note` gives the value
        # "value  # note"): refused rather than stripped, since a value may contain
        # " #" (one given through VAR_FILE is never looked at).
        raw = self.ENVIRON.env.get(var)
        if raw is not None and INLINE_COMMENT.search(raw):
            raise ImproperlyConfigured(
                f"{var}={raw!r}: inline comments are not supported: put the comment on "
                f"a line of its own (a value that contains ' #' can be given through "
                f"{var}_FILE)")
        return super().get_value(var, cast=cast, default=default,
                                 parse_default=parse_default)
