"""Sessions: ``tests`` (the suite), ``demo`` (the main job), ``benchmarks``.

Every session installs the package with pip under constraints.txt, which
pins torch==2.13.0 (a CPU build on disk on this project's machines).
Virtualenvs are reused, so a second run starts in seconds.
"""

import nox

nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

CONSTRAINTS = ("-c", "constraints.txt")


def install(session, extras):
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


@nox.session
def tests(session):
    """The whole suite (and every benchmark once, untimed). Args go to pytest: nox -s tests -- -n auto"""
    install(session, "torch,jax,test,plot,progress")
    session.run(
        "pytest",
        "tests",
        "benchmarks",
        "--benchmark-disable",
        *session.posargs,
        # a missing framework fails here instead of skipping
        env={"BACKPROP_REQUIRE_FRAMEWORKS": "1"},
    )
