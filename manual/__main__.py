"""``python -m manual``: the command line (see manual/cli.py)."""

import sys

from .cli import main

sys.exit(main())
