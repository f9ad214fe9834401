"""Running a user's code so that nothing it does can make the harness crash, lie
or pass: every call of it (and the run of its file) goes through ``call``.

- An exception it raises, ``exit()`` / ``sys.exit()`` included (any BaseException
  but Ctrl-C), becomes a ``UserCodeError`` carrying the user's traceback (the
  harness's own frames left out), never a harness error and never exit status 0.
- A call that runs longer than ``timeout`` seconds is stopped (``UserCodeError``,
  kind "timed out"). The limit is a SIGALRM timer, so it interrupts Python code;
  code stuck inside one long C call is interrupted when that call returns, and in
  a thread other than the main one there is no limit (signals reach only the main
  thread).
- What it prints goes to stderr, so stdout carries only the report (``--json``);
  stdin reads as empty (``input()`` raises EOFError rather than waiting).
- Its file's folder is on ``sys.path`` while it runs, for imports it makes late.
- Warnings it raises are recorded (``Call.warnings``), not shown as they happen.
"""

import contextlib
import importlib.util
import io
import signal
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError, UserCodeError

DEFAULT_TIMEOUT = 60.0  # seconds per call of the user's function
HARNESS = Path(__file__).resolve().parent


class _TimeUp(BaseException):
    """Raised in the user's code when its time is up; a BaseException, so that
    ``except Exception`` in their code does not swallow it."""


@dataclass
class UserFunction:
    """A user's callable, and the folder its file lives in (None: defined in Python)."""

    fn: object
    name: str
    folder: str | None = None


@dataclass
class Calls:
    """What the user's code did besides returning, over every call: the warnings it raised."""

    warnings: list = field(default_factory=list)  # (category name, message)

    def notes(self):
        """One line per distinct warning, with its count."""
        counts = {}
        for w in self.warnings:
            counts[w] = counts.get(w, 0) + 1
        return [f"{cat}: {msg}" + (f" ({n} times)" if n > 1 else "") for (cat, msg), n in counts.items()]


def as_user_function(fn, name=None):
    if isinstance(fn, UserFunction):
        return fn
    if not callable(fn):
        raise TypeError(f"fn: expected a function, got {type(fn).__name__}")
    return UserFunction(fn, name or getattr(fn, "__name__", "your function"))


def call(user, args, timeout=DEFAULT_TIMEOUT, calls=None, what=None):
    """``user.fn(*args)``, guarded as the module says; returns what it returned."""
    what = what or user.name
    with _guarded(user.folder, timeout, calls, what):
        return user.fn(*args)


def load_function(target, timeout=DEFAULT_TIMEOUT):
    """The function ``FILE.py:NAME`` names, its file run as a module (guarded like a call)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{target}: expected FILE.py:FUNCTION, e.g. my_backprop.py:backprop")
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{path}: is a directory; expected a Python file (FILE.py:FUNCTION)")
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    if file.suffix != ".py":
        raise UsageError(f"{path}: expected a Python file ending in .py")
    spec = importlib.util.spec_from_file_location(f"_user_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    folder = str(file.resolve().parent)
    with _guarded(folder, timeout, Calls(), f"{path}, when run"):
        spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(
            k
            for k, v in vars(module).items()
            if callable(v) and getattr(v, "__module__", "") == module.__name__
        )
        raise UsageError(f"{path}: no function {name!r} (found: {', '.join(found) or 'none'})")
    return UserFunction(fn, target, folder)


@contextlib.contextmanager
def _guarded(folder, timeout, calls, what):
    calls = calls if calls is not None else Calls()
    added = folder is not None and folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    stdin = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        with (
            contextlib.redirect_stdout(sys.stderr),
            warnings.catch_warnings(record=True) as caught,
            _time_limit(timeout, what),
        ):
            warnings.simplefilter("always")
            try:
                yield
            except KeyboardInterrupt:
                raise
            except _TimeUp:
                raise UserCodeError(
                    f"{what} did not return within {timeout:g} s (the time limit per call; "
                    "--timeout SECONDS to change it)",
                    kind="timed out",
                ) from None
            except SystemExit as err:
                raise UserCodeError(
                    f"{what} called exit({'' if err.code is None else repr(err.code)}): nothing was checked",
                    kind="exited",
                    user_traceback=_user_traceback(err),
                ) from None
            except BaseException as err:
                raise UserCodeError(
                    f"{what} raised {type(err).__name__}: {err}",
                    kind="raised",
                    user_traceback=_user_traceback(err),
                ) from None
        calls.warnings += [(w.category.__name__, str(w.message)) for w in caught]
    finally:
        sys.stdin = stdin
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)


@contextlib.contextmanager
def _time_limit(seconds, what):
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def time_up(signum, frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, time_up)
    # again every second after the first: code that catches the first one is stopped by the next
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _user_traceback(err):
    """The traceback of ``err`` from the user's first frame on (the harness's frames
    that called it left out)."""
    frames = traceback.extract_tb(err.__traceback__)
    start = 0
    while start < len(frames) and Path(frames[start].filename).resolve().is_relative_to(HARNESS):
        start += 1
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames[start:])]
    lines += traceback.format_exception_only(type(err), err)
    return "".join(lines)
