"""``python -m crosscheck``: the command line (see crosscheck/cli.py)."""

import sys

from .cli import main

sys.exit(main())
