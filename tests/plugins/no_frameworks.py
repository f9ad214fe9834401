"""A pytest plugin (and importable module) that makes torch and jax
unimportable, as on a machine without the extras:

    PYTHONPATH=tests/plugins pytest -p no_frameworks ...
"""

import sys

for _name in ("torch", "jax", "jaxlib", "optax"):
    sys.modules[_name] = None  # import raises ImportError from here on
