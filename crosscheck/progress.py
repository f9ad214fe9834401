"""The one progress bar the commands show: on a terminal only, never with --json or
--no-progress, and only where tqdm is installed (the ``progress`` extra)."""

import sys


def bar(args, total, unit, desc):
    """A tqdm bar over ``total`` units, or None."""
    if getattr(args, "no_progress", False) or getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, desc=desc, leave=False)
