"""Errors the user can act on. The CLI prints their message on one line and exits with 2."""


class UserError(Exception):
    """Bad input, bad settings or a bad command line: exit code 2, no traceback."""

    exit_code = 2


class InputError(UserError):
    """An input file or column is missing or unreadable."""


class ConfigError(UserError):
    """A settings file or option is invalid."""


class PackError(UserError):
    """A guideline pack is missing, malformed or fails its definition check."""


class OutputFolderError(UserError):
    """The output folder cannot be used: it is the input, holds files the tool did not write,
    or cannot be written."""
