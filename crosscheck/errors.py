"""The harness's own exception."""


class UsageError(Exception):
    """Bad usage of the command line: printed as one line, exit status 2."""
