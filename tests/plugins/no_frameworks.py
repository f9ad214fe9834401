"""A pytest plugin (and importable module) that makes torch and jax
unimportable (and scikit-learn and Dask), as on a machine without the extras:

    PYTHONPATH=tests/plugins pytest -p no_frameworks ...

A finder refuses them (ModuleNotFoundError), as a missing package does, rather
than ``sys.modules[name] = None``: libraries that look for torch in
``sys.modules`` (scipy's array API helpers, which scikit-learn calls) must find
nothing there, not None.
"""

import importlib.abc
import sys

BLOCKED = ("torch", "jax", "jaxlib", "optax", "sklearn", "dask", "distributed")


class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


for _name in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[_name]
sys.meta_path.insert(0, _Missing())
