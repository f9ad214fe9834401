"""What a backend raises when its framework is not installed."""


def missing(framework, extra, err):
    return ImportError(
        f"{framework} is not installed ({err}); install the {extra!r} extra: "
        f"pip install -c constraints.txt 'backprop-by-hand[{extra}]'"
    )
