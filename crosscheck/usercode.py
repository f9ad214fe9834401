"""Running a user's code so that nothing it does can make the harness crash, lie
or pass: every call of it (and the run of its file) goes through ``call``.

- An exception it raises, ``exit()`` / ``sys.exit()`` included (any BaseException
  but Ctrl-C), becomes a ``UserCodeError`` carrying the user's traceback (the
  harness's own frames left out), never a harness error and never exit status 0.
- A call that runs longer than ``timeout`` seconds is stopped (``UserCodeError``,
  kind "timed out"). The limit is a SIGALRM timer, fired again every ``REFIRE`` s, so it
  interrupts Python code; code stuck inside one long C call is interrupted when
  that call returns, and in a thread other than the main one there is no limit
  (signals reach only the main thread). Code that catches every one of them (a
  bare ``except:`` in a loop) cannot be stopped in-process: the command line then
  ends the process after ``ESCALATE_AFTER`` more stops, 2 s (exit 2); a library
  caller is told so in the docs. A caller's own timer is put back afterwards.
- What it prints goes to stderr, so stdout carries only the report (``--json``):
  on the command line at the file descriptor (``os.system`` and ``sys.__stdout__``
  included); stdin reads as empty (``input()`` raises EOFError rather than waiting).
- ``os._exit()`` ends the process at once, before anything can report: the
  command line runs the check in a child process and says so (exit 2).
- Its file's folder is on ``sys.path`` while it runs, for imports it makes late.
- Warnings it raises are recorded (``Call.warnings``), not shown as they happen.
"""

import contextlib
import importlib.util
import io
import numbers
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError, UserCodeError

DEFAULT_TIMEOUT = 60.0  # seconds per call of the user's function
MAX_TIMEOUT = 1e6  # what setitimer takes everywhere (11 days)
REFIRE = 0.25  # seconds between the stops that follow the first
ESCALATE_AFTER = 8  # stops swallowed (2 s) before the command line ends the process
HARNESS = Path(__file__).resolve().parent
# set by the command line, which owns the process: the user's output is redirected at the file
# descriptor, and code that swallows every stop ends the process. A library caller keeps both.
WHOLE_PROCESS = False
TIMEOUT_HOW = "timeout=SECONDS"  # how the time limit is changed: the keyword, the CLI's --timeout (by_flag)
_STATUS_FD = None  # in_child's child: the pipe its exit status goes to (said before it ends itself)


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


def check_timeout(timeout):
    """None (no limit) or a positive number of seconds up to ``MAX_TIMEOUT``; ValueError else."""
    if timeout is None:
        return None
    ok = isinstance(timeout, numbers.Real) and not isinstance(timeout, bool) and 0 < timeout <= MAX_TIMEOUT
    if not ok:
        raise ValueError(
            f"timeout: expected a number of seconds in (0, {MAX_TIMEOUT:g}] (or None, no limit), "
            f"got {timeout!r}"
        )
    return float(timeout)


def call(user, args, timeout=DEFAULT_TIMEOUT, calls=None, what=None):
    """``user.fn(*args)``, guarded as the module says; returns what it returned."""
    what = what or user.name
    with _guarded(user.folder, timeout, calls, what):
        return user.fn(*args)


def module_name(file):
    """The name a user's file runs under as a module (``load_function``)."""
    return f"_user_{Path(file).stem}"


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
    spec = importlib.util.spec_from_file_location(module_name(file), file)
    module = importlib.util.module_from_spec(spec)
    # as an import would: pickle (and anything else that looks a class's module up) finds it
    sys.modules[spec.name] = module
    folder = str(file.resolve().parent)
    with _guarded(folder, timeout, Calls(), f"{path} (when run)"):
        spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(
            k
            for k, v in vars(module).items()
            if callable(v) and getattr(v, "__module__", "") == module.__name__
        )
        if hasattr(module, name):
            raise UsageError(f"{path}: {name!r} is a {type(fn).__name__}, not a function")
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
            _stdout_to_stderr(),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                with _time_limit(timeout, what):
                    yield
            except KeyboardInterrupt:
                raise
            except _TimeUp:
                raise UserCodeError(
                    f"{what} did not return within {timeout:g} s (the time limit per call; "
                    f"{TIMEOUT_HOW} to change it)",
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
def _stdout_to_stderr():
    """The user's output to stderr: Python's (print), and with ``WHOLE_PROCESS`` (the command
    line, which owns its file descriptors) the process's too (os.system, sys.__stdout__)."""
    if not WHOLE_PROCESS:
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def timeout_named(how):
    """Within it, a time limit's message says ``how`` changes it (the command line: "--timeout SECONDS")."""
    global TIMEOUT_HOW
    saved, TIMEOUT_HOW = TIMEOUT_HOW, how
    try:
        yield
    finally:
        TIMEOUT_HOW = saved


@contextlib.contextmanager
def _time_limit(seconds, what):
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = [0]

    def time_up(signum, frame):
        fired[0] += 1
        if WHOLE_PROCESS and fired[0] > ESCALATE_AFTER:
            # every _TimeUp caught (a bare except in a loop): only ending the process stops it
            message = (
                f"backprop-by-hand: error: {what} did not return within {seconds:g} s and caught every "
                "attempt to stop it; the process ends here\n"
            )
            os.write(2, message.encode())
            if _STATUS_FD is not None:  # the parent: this ending is the harness's, said already
                os.write(_STATUS_FD, bytes([2]))
            os._exit(2)
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, time_up)
    outer = signal.getitimer(signal.ITIMER_REAL)  # a timer of the caller's (pytest-timeout), put back after
    start = time.monotonic()
    try:
        # again every REFIRE seconds: code that catches one stop is stopped by the next
        signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0] > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer[0] - (time.monotonic() - start), 1e-3), outer[1])


def _user_traceback(err):
    """The traceback of ``err`` from the user's first frame on (the harness's frames
    that called it left out, and the import machinery's)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith("<frozen")]
    start = 0
    while start < len(frames) and Path(frames[start].filename).resolve().is_relative_to(HARNESS):
        start += 1
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames[start:])]
    lines += traceback.format_exception_only(type(err), err)
    return "".join(lines)


def in_child(run):
    """``run()``'s exit status, run in a forked child, which owns the process (``WHOLE_PROCESS``)
    and reports its status through a pipe when it ends normally; a child that ends without
    (os._exit in the user's code, a signal) is a ``UserCodeError`` saying so; Ctrl-C: 130. No
    framework is loaded yet when this forks (the references load theirs on first use)."""
    global WHOLE_PROCESS, _STATUS_FD
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        WHOLE_PROCESS = True
        _STATUS_FD = write
        code = 1
        try:
            code = run()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os.write(write, bytes([code & 0xFF]))
            os._exit(code)
    os.close(write)
    try:
        _, status = os.waitpid(pid, 0)
    except KeyboardInterrupt:
        os.waitpid(pid, 0)
        return 130
    reported = os.read(read, 1)
    os.close(read)
    if reported:
        return reported[0]
    how = f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status) else (
        f"exit status {os.waitstatus_to_exitcode(status)}"
    )  # fmt: skip
    raise UserCodeError(
        f"the check ended before it could report ({how}): the code it ran ended the "
        "process (os._exit, or a crash); nothing was checked",
        kind="exited",
    )
