"""Checkpoints: a net and its training state in one ``.npz`` file.

    manual.save("run.npz", history.net, history.state)
    net, state = manual.load("run.npz", expect=net)
    more = manual.train(net, x, y, optimizer, 18, resume=state)

    manual.save("loop.npz", trainer.net, trainer.train_state())     # a loop of one's own
    net, state = manual.load("loop.npz")
    trainer = manual.Trainer(net, optimizer, state=state)

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

- ``checkpoint``: a one-element string array, the JSON metadata: the format
  marker and version, the architecture (``net.spec()``, dtype included)
  and, if a state was saved, its plain-data part (step count, epoch, the
  shuffling generator's state, batch_size, shuffle_seed, optimizer config,
  the names of the optimizer's buffers, and what the model keeps of a run:
  a Sequential's dropout generator); and ``run``, that generator's state as the
  net had it (with or without a state: a loaded net draws the masks the saved one would);
- ``param.<layer>.<name>``: the parameters (``param.0.W``, ``param.0.b``, ...), layer 0 first;
- ``buffer.<layer>.<name>``: a Sequential's running statistics;
- ``optimizer.<buffer>.<i>``: the optimizer's buffers, one per parameter in
  flat order (W1, b1, W2, ...).

A net is an ``MLP`` or a ``Sequential``; a file written before Sequential (no
"kind" in its spec, no "model" in its state) loads as it always did.

No array is an object array, so everything loads with
``allow_pickle=False``. The optimizer's scratch memory is not saved.
A save replaces the file atomically; a load checks everything against the
recorded spec and builds nothing until it all agrees.
"""

import json
import numbers
import os
import secrets
import struct
import zipfile

import numpy as np

from . import checks
from .layers import from_config as layer_from_config
from .mlp import MLP
from .optim import OptimizerState, flat, from_config
from .sequential import Sequential
from .spec import from_spec, normalize
from .train import TrainState, copy_rng_state, copy_run_state

FORMAT = "backprop-by-hand checkpoint"
VERSION = 1
META_KEY = "checkpoint"

_STATE_KEYS = ("step", "epoch", "rng", "batch_size", "shuffle_seed", "optimizer_config", "buffers", "model")
_ZIP_MAGIC = b"PK\x03\x04"


class _Bad(Exception):
    """A reason a file is not a loadable checkpoint; ``load`` adds the path."""


# ------------------------------------------------------------------ save


def save(path, net, state=None):
    """Write ``net`` (and a ``TrainState``, e.g. ``history.state``) to ``path``.

    The file is written exactly at ``path`` (no ``.npz`` appended). It is
    first written to a temporary file in the same directory, flushed to disk
    and then renamed over ``path``: a save that fails or is interrupted
    leaves any previous file at ``path`` untouched and no temporary behind.
    """
    path = os.fspath(path)
    arrays = _arrays_to_save(net, state)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save checkpoint {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save checkpoint {path}: it is a directory")
    _atomic_write(path, directory, arrays)


def _arrays_to_save(net, state):
    """Every array of the file by name, the JSON metadata included; checks the arguments."""
    if not isinstance(net, (MLP, Sequential)):
        raise TypeError(f"net: expected a manual.MLP or manual.Sequential, got {type(net).__name__}")
    if state is not None and not isinstance(state, TrainState):
        raise TypeError(
            f"state: expected None or a manual.TrainState (history.state), got {type(state).__name__}"
        )
    arrays = _named(net)
    for name, p in arrays.items():
        # MLP.from_params refuses non-finite weights: such a file could never be loaded
        if not np.isfinite(p).all():
            raise ValueError(f"cannot save: {name} has non-finite values (a diverged run?)")
    meta = {"format": FORMAT, "version": VERSION, "spec": net.spec(), "state": None}
    run = net.run_state()
    if run:  # the net's own generator (Dropout's): a loaded net draws the masks this one would next
        meta["run"] = copy_run_state(run)
    if state is not None:
        meta["state"] = _state_meta(state)
        arrays.update(_buffer_arrays(state, net))
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot save: the state is not plain data ({err})") from None
    arrays[META_KEY] = np.array([text])
    # a dry run of load on what is about to be written: never write a file load would refuse
    try:
        _from_contents(dict(arrays), expect=None)
    except _Bad as err:
        raise ValueError(f"cannot save: the checkpoint would not load back: {err}") from err.__cause__
    return arrays


def _state_meta(state):
    """The plain-data part of a TrainState (the arrays are stored beside it)."""
    if not isinstance(state.optimizer_config, dict) or not state.optimizer_config:
        raise ValueError(
            f"cannot save: state.optimizer_config is {state.optimizer_config!r}; train(resume=...) needs "
            "the optimizer's config to go on (a History's state carries it: optimizer.config())"
        )
    return {
        "step": _count("state.optimizer.step", state.optimizer.step, 0),
        "epoch": _count("state.epoch", state.epoch, 0),
        # the shuffling generator's state: PCG64's 128-bit ints are exact in JSON
        "rng": copy_rng_state(state.rng),
        "batch_size": _optional_count("state.batch_size", state.batch_size, 1),
        "shuffle_seed": _optional_count("state.shuffle_seed", state.shuffle_seed, 0),
        "optimizer_config": dict(state.optimizer_config),
        "buffers": list(state.optimizer.buffers),
        "model": copy_run_state(state.model),
    }


def _buffer_arrays(state, net):
    """``optimizer.<name>.<i>`` -> buffer, checked against the net's params."""
    params = flat(net.param_views)
    out = {}
    for name, bufs in state.optimizer.buffers.items():
        # names become array keys inside the zip: keep them plain
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"cannot save: optimizer buffer name {name!r} is not a plain name")
        if len(bufs) != len(params):
            raise ValueError(
                f"cannot save: optimizer buffer {name!r} has {len(bufs)} arrays, "
                f"the net has {len(params)} params"
            )
        for i, (buf, p) in enumerate(zip(bufs, params)):
            buf = np.asarray(buf)
            if buf.shape != p.shape or buf.dtype != p.dtype:
                raise ValueError(
                    f"cannot save: optimizer buffer {name!r}[{i}] is {buf.dtype.name} {buf.shape}, "
                    f"its param is {p.dtype.name} {p.shape}"
                )
            out[f"optimizer.{name}.{i}"] = buf
    return out


def _atomic_write(path, directory, arrays):
    """Write the archive to a fresh file beside ``path``, fsync it, rename it onto ``path``."""
    tmp, fd = _create_temp(path, directory)
    try:
        # a file object: np.savez given a name would append ".npz" to it
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # KeyboardInterrupt included: never leave the temporary behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _create_temp(path, directory):
    """``(name, fd)`` of a new hidden file in ``directory``; mode 0666 minus the
    umask, as a plain ``open`` would make (mkstemp's 0600 would end up on the checkpoint)."""
    base = os.path.basename(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot save checkpoint {path}: no free temporary name in {directory}")


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; Windows cannot open a directory).

    Best effort: the checkpoint is complete and in place by now, and some
    file systems (network mounts) refuse to fsync a directory."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ load


def load(path, expect=None):
    """``(net, state)`` from a checkpoint; ``state`` is None if none was saved.

    ``expect``: a net whose architecture and dtype (``expect.spec()``) the
    checkpoint must have. A missing file raises FileNotFoundError; a file
    that is not a checkpoint, is truncated or corrupt, disagrees with its own
    spec or with ``expect`` raises ValueError naming the file and the problem.
    Either everything is returned or nothing is built.
    """
    if expect is not None and not isinstance(expect, (MLP, Sequential)):
        raise TypeError(
            f"expect: expected None, a manual.MLP or a manual.Sequential, got {type(expect).__name__}"
        )
    path = os.fspath(path)
    try:
        return _from_contents(_read_archive(path), expect)
    except _Bad as err:
        raise ValueError(f"checkpoint {path}: {err}") from err.__cause__


def _from_contents(arrays, expect):
    """``(net, state)`` from the archive's arrays by name (consumed); raises _Bad."""
    meta = _parse_meta(arrays.pop(META_KEY, None))
    spec = _check_spec(meta["spec"])
    if expect is not None:
        _compare_spec(spec, expect.spec())
    net = _build_net(spec, arrays)
    if "run" in meta:
        net.restore_run_state(_check_model_state(meta["run"], net))
    state = None if meta["state"] is None else _build_state(meta["state"], net, arrays)
    if arrays:
        raise _Bad(f"unexpected arrays {sorted(arrays)} (not in the recorded spec or state)")
    return net, state


# what zipfile and np.load raise on a damaged archive: a flipped bit in a zip
# header can mean "encrypted" (RuntimeError) or "unknown compression" (NotImplementedError)
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    struct.error,
)


def _read_archive(path):
    """Every array of the ``.npz`` at ``path``, read in full (so a corrupt member fails here)."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path}: no such file") from None
    except IsADirectoryError:
        raise _Bad("is a directory, not a checkpoint file") from None
    with f:
        magic = f.read(len(_ZIP_MAGIC))
        if not magic:
            raise _Bad("is empty (an interrupted copy?), not a checkpoint")
        if magic != _ZIP_MAGIC:
            # np.load would try to read it as a pickle and complain about allow_pickle
            raise _Bad("is not a checkpoint: not an .npz (zip) archive")
        try:
            _check_crcs(f)
            f.seek(0)
            with np.load(f, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except _READ_ERRORS as err:
            raise _Bad(f"is truncated or corrupt ({type(err).__name__}: {err})") from err


def _check_crcs(f):
    """Read every member once against its CRC, before np.load parses any .npy
    header: a damaged shape in a header could otherwise ask for a huge array."""
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        bad = zf.testzip()
    if bad is not None:
        raise zipfile.BadZipFile(f"member {bad!r} fails its CRC check")


def _parse_meta(raw):
    """The metadata dict, after checking it is this format and version."""
    if raw is None:
        raise _Bad(
            f"is not a checkpoint: an .npz without the {META_KEY!r} metadata entry (a plain np.savez file?)"
        )
    if raw.shape != (1,) or raw.dtype.kind != "U":
        raise _Bad(
            f"is not a checkpoint: {META_KEY!r} is a {raw.dtype} array of shape {raw.shape}, "
            "not one JSON string"
        )
    try:
        meta = json.loads(str(raw[0]))
    except ValueError as err:
        raise _Bad(f"corrupt metadata: not valid JSON ({err})") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Bad(f"is not a checkpoint: its metadata has no format marker {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise _Bad(f"has format version {meta.get('version')!r}; this manual reads version {VERSION}")
    # "run" (a net's own generator) is absent from files written before it, and for nets without one
    _check_keys(
        "metadata", meta, ("format", "version", "spec", "state") + (("run",) if "run" in meta else ())
    )
    return meta


def _check_spec(spec):
    """The recorded architecture, its kind and defaults filled in (``spec.normalize``); an
    MLP's checked for shape here (``from_spec`` checks the names)."""
    try:
        spec = normalize(spec)
    except (TypeError, ValueError) as err:
        raise _Bad(f"corrupt spec: {err}") from None
    if spec["kind"] == "MLP":
        sizes = spec["sizes"]
        if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_is_count(s, 1) for s in sizes)):
            raise _Bad(f"corrupt spec: sizes {sizes!r}")
        n_layers = len(sizes) - 1
        for key, kind in (("activations", str), ("bias", bool)):
            value = spec[key]
            fits = (
                isinstance(value, list) and len(value) == n_layers and all(isinstance(v, kind) for v in value)
            )
            if not fits:
                raise _Bad(f"corrupt spec: {key} {value!r} for {n_layers} layers")
    elif not (isinstance(spec["layers"], list) and spec["layers"]):
        raise _Bad(f"corrupt spec: layers {spec['layers']!r}")
    try:
        checks.check_dtype(spec["dtype"])
    except TypeError:
        raise _Bad(f"corrupt spec: dtype {spec['dtype']!r} (expected float32 or float64)") from None
    return spec


def _compare_spec(got, want):
    want = normalize(want)
    diffs = [f"{k} {got.get(k)!r} in the file, {want[k]!r} expected" for k in want if got.get(k) != want[k]]
    if diffs:
        raise _Bad("does not match the expected net: " + "; ".join(diffs))


def _shapes(spec):
    """``(params, buffers)``: per layer, the name -> shape of each array the spec implies."""
    if spec["kind"] == "MLP":
        params = []
        for l, (n_in, n_out) in enumerate(zip(spec["sizes"][:-1], spec["sizes"][1:])):
            params.append({"W": (n_in, n_out), **({"b": (n_out,)} if spec["bias"][l] else {})})
        return params, [{} for _ in params]
    try:
        layers = [layer_from_config(dict(layer)) for layer in spec["layers"]]
    except (TypeError, ValueError) as err:
        raise _Bad(f"corrupt spec: {err}") from err
    dtype = np.dtype(spec["dtype"])
    return [layer.param_shapes() for layer in layers], [
        {k: v.shape for k, v in layer.init_buffers(dtype).items()} for layer in layers
    ]


def _build_net(spec, arrays):
    """The net, from the ``param.*`` and ``buffer.*`` arrays (popped from ``arrays``), as the spec says."""
    dtype = np.dtype(spec["dtype"])
    param_shapes, buffer_shapes = _shapes(spec)
    params = [
        {k: _take(arrays, f"param.{i}.{k}", s, dtype) for k, s in p.items()}
        for i, p in enumerate(param_shapes)
    ]
    buffers = [
        {k: _take(arrays, f"buffer.{i}.{k}", s, dtype) for k, s in b.items()}
        for i, b in enumerate(buffer_shapes)
    ]
    try:
        net = from_spec(spec, params, buffers if spec["kind"] == "Sequential" else None)
    except (TypeError, ValueError) as err:
        raise _Bad(f"corrupt spec or params: {err}") from err
    if normalize(net.spec()) != spec:
        raise _Bad(f"corrupt spec: it rebuilds as {net.spec()}, the file records {spec}")
    return net


def _build_state(meta, net, arrays):
    """The TrainState, from its metadata and the ``optimizer.*`` arrays (popped from ``arrays``)."""
    if isinstance(meta, dict) and "model" not in meta:
        meta = {**meta, "model": {}}  # written before a model kept anything of a run
    _check_keys("state", meta, _STATE_KEYS)
    for key, minimum in (("step", 0), ("epoch", 0)):
        if not _is_count(meta[key], minimum):
            raise _Bad(f"corrupt state: {key} {meta[key]!r}")
    for key, minimum in (("batch_size", 1), ("shuffle_seed", 0)):
        if meta[key] is not None and not _is_count(meta[key], minimum):
            raise _Bad(f"corrupt state: {key} {meta[key]!r}")
    config, names = _check_optimizer(meta["optimizer_config"], meta["buffers"])
    rng = _check_rng(meta["rng"], meta["shuffle_seed"])
    model = _check_model_state(meta["model"], net)
    params = flat(net.param_views)
    buffers = {
        name: [_take(arrays, f"optimizer.{name}.{i}", p.shape, net.dtype) for i, p in enumerate(params)]
        for name in names
    }
    return TrainState(
        optimizer=OptimizerState(step=meta["step"], buffers=buffers),
        epoch=meta["epoch"],
        rng=rng,
        batch_size=meta["batch_size"],
        shuffle_seed=meta["shuffle_seed"],
        optimizer_config=config,
        model=model,
    )


def _check_optimizer(config, names):
    """``(config, buffer names)``; the config rebuilt through ``from_config`` so
    it compares equal to ``optimizer.config()`` again (JSON turns tuples into lists)."""
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise _Bad(f"corrupt state: buffer names {names!r}")
    if not isinstance(config, dict):
        raise _Bad(f"corrupt state: optimizer_config {config!r}")
    if not config:
        raise _Bad(
            "corrupt state: optimizer_config is empty, so train(resume=...) could not check "
            "the optimizer against it"
        )
    try:
        optimizer = from_config(config)
    except (KeyError, TypeError, ValueError) as err:
        raise _Bad(f"corrupt state: optimizer_config {config!r} ({type(err).__name__}: {err})") from err
    if sorted(names) != sorted(optimizer.buffer_names):
        raise _Bad(
            f"corrupt state: buffers {names} for {optimizer!r}, which keeps {list(optimizer.buffer_names)}"
        )
    return optimizer.config(), names


def _check_rng(rng, shuffle_seed):
    """The generator state, checked by restoring it the way ``train`` will."""
    if (rng is None) != (shuffle_seed is None):
        which = "missing" if rng is None else "present"
        raise _Bad(f"corrupt state: rng {which} with shuffle_seed={shuffle_seed!r}")
    if rng is None:
        return None
    try:
        np.random.default_rng(shuffle_seed).bit_generator.state = rng
    except (TypeError, ValueError, KeyError) as err:
        raise _Bad(f"corrupt state: the shuffling generator's state does not restore ({err})") from err
    return rng


def _check_model_state(model, net):
    """What the model keeps of a run, checked by restoring it into a copy of the net."""
    if not isinstance(model, dict):
        raise _Bad(f"corrupt state: model {model!r}")
    try:
        net.copy().restore_run_state(model)
    except (TypeError, ValueError, KeyError) as err:
        raise _Bad(f"corrupt state: the model's run state does not restore ({err})") from err
    return model


def _take(arrays, key, shape, dtype):
    """Pop one array, checked against the shape and dtype the spec implies."""
    if key not in arrays:
        raise _Bad(f"array {key!r} is missing")
    arr = arrays.pop(key)
    if arr.shape != tuple(shape) or arr.dtype != dtype:
        raise _Bad(
            f"array {key!r} is {arr.dtype} {arr.shape}, "
            f"the recorded spec implies {np.dtype(dtype).name} {tuple(shape)}"
        )
    return arr


# ------------------------------------------------------------------ helpers


def _named(net):
    """Every param (and buffer) of the net by its array name, in flat order."""
    arrays = {f"param.{i}.{k}": v for i, layer in enumerate(net.param_views) for k, v in layer.items()}
    for i, layer in enumerate(getattr(net, "buffers", [])):
        arrays.update({f"buffer.{i}.{k}": v for k, v in layer.items()})
    return arrays


def _check_keys(what, value, keys):
    if not isinstance(value, dict) or set(value) != set(keys):
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise _Bad(f"corrupt {what}: expected the keys {sorted(keys)}, got {got}")


def _is_count(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _optional_count(name, value, minimum):
    return None if value is None else _count(name, value, minimum)


def _count(name, value, minimum):
    """A JSON-ready int (numpy ints included) >= minimum, for ``save``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"cannot save: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
