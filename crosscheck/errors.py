"""The harness's own exceptions."""


class UsageError(Exception):
    """Bad usage of the command line: printed as one line, exit status 2."""


class UserCodeError(Exception):
    """The user's code raised, exited or ran out of time (on import, or when called):
    the message says which, ``user_traceback`` holds the traceback of their code
    (the harness's frames left out; empty when it timed out); exit status 2.

    kind: "raised", "exited" or "timed out"."""

    def __init__(self, message, kind="raised", user_traceback=""):
        super().__init__(message)
        self.kind = kind
        self.user_traceback = user_traceback
