"""The one progress bar the commands show: on a terminal only, never with --json or
--no-progress, and only where tqdm is installed (the ``progress`` extra)."""

import sys
from dataclasses import dataclass


@dataclass
class Job:
    """A command's computation, ready to run under one bar: ``run(progress=None)`` returns
    its result, calling ``progress(k)`` with the k steps done since (``progress()``: one),
    ``steps`` in all."""

    steps: int
    run: object


def bar(args, total, unit, desc):
    """A tqdm bar over ``total`` units, or None."""
    if getattr(args, "no_progress", False) or getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, desc=desc, leave=False)


def run(args, job, unit, desc):
    """``job.run()``'s result, under a bar of ``job.steps`` ``unit``s when ``args`` allow one."""
    shown = bar(args, job.steps, unit, desc)
    result = job.run(progress=shown.update if shown else None)
    if shown:
        shown.close()
    return result
