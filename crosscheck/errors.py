"""The harness's own exceptions."""


class UsageError(Exception):
    """Bad usage of the command line: printed as one line, exit status 2."""


class UserCodeError(Exception):
    """The user's code raised (on import, or when called): its traceback is shown, exit status 2."""
