"""Checkpoints: what ``manual.save`` writes, ``manual.load`` gives back exactly;
12 epochs + save + load + 18 epochs is the 30-epoch run bit for bit; a failed
save never damages the previous file; a file that is not a good checkpoint is
refused with a message naming it."""

import json
import os
import zipfile

import numpy as np
import pytest

import manual
from manual.checkpoint import META_KEY

from helpers import make_data

OPTIMIZERS = {
    "sgd": lambda: manual.SGD(lr=0.1),
    "sgd_momentum": lambda: manual.SGD(lr=0.1, momentum=0.9),
    "sgd_nesterov": lambda: manual.SGD(lr=0.1, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda: manual.SGD(lr=0.1, weight_decay=0.01),
    "adam": lambda: manual.Adam(lr=0.01),
    "adam_weight_decay": lambda: manual.Adam(lr=0.01, weight_decay=0.01),
    "adamw": lambda: manual.AdamW(lr=0.01),
}

N_SAMPLES = 20
BATCHING = {
    "full_batch": {},
    # 20 samples in batches of 8: two full batches and a short one of 4
    "mini_batches": {"batch_size": 8},
    "shuffled": {"batch_size": 8, "shuffle_seed": 5},
}

SPLIT, TOTAL = 12, 30


def small_net(dtype=np.float64, loss="mse"):
    if loss == "cross_entropy":
        return manual.MLP(
            [3, 5, 2],
            activation="tanh",
            output_activation="softmax",
            loss="cross_entropy",
            reduction="mean",
            init="xavier",
            seed=1,
            dtype=dtype,
        )
    return manual.MLP([3, 5, 2], activation="tanh", loss="mse", init="xavier", seed=1, dtype=dtype)


def trained(net, optimizer_name="adam", batching="shuffled", epochs=SPLIT):
    x, y = make_data(net, N_SAMPLES)
    return manual.train(net, x, y, OPTIMIZERS[optimizer_name](), epochs, **BATCHING[batching])


# ------------------------------------------------------------------ helpers


def split_run(train, net, optimizer_name, batching, path):
    """``SPLIT`` epochs, a save/load round trip, ``TOTAL - SPLIT`` more: (losses, second history)."""
    x, y = make_data(net, N_SAMPLES)
    first = train(net, x, y, OPTIMIZERS[optimizer_name](), SPLIT, **BATCHING[batching])
    manual.save(path, first.net, first.state)
    loaded_net, state = manual.load(path, expect=net)
    second = train(
        loaded_net, x, y, OPTIMIZERS[optimizer_name](), TOTAL - SPLIT, resume=state, **BATCHING[batching]
    )
    return np.concatenate([first.losses, second.losses]), second


def unbroken_run(train, net, optimizer_name, batching):
    x, y = make_data(net, N_SAMPLES)
    return train(net, x, y, OPTIMIZERS[optimizer_name](), TOTAL, **BATCHING[batching])


def assert_bitwise(name, expected, actual):
    expected, actual = np.asarray(expected), np.asarray(actual)
    assert expected.shape == actual.shape, f"{name}: shape {actual.shape}, expected {expected.shape}"
    if not np.array_equal(expected, actual):
        diff = expected != actual
        first = tuple(int(i) for i in np.argwhere(diff)[0])
        raise AssertionError(
            f"{name}: {int(diff.sum())} of {diff.size} entries differ, first at {first} "
            f"({actual[first]!r} vs {expected[first]!r}), max abs diff {np.abs(expected - actual).max():.3e}"
        )


def assert_same_run(full, losses, second):
    """The resumed run equals the unbroken one: every step's loss, the params and the state."""
    assert_bitwise("losses", full.losses, losses)
    for l, (want, got) in enumerate(zip(full.params, second.params), start=1):
        for k in want:
            assert_bitwise(f"{k}{l}", want[k], got[k])
    assert_same_state(full.state, second.state)


def assert_same_state(want, got):
    assert got.step == want.step
    assert got.epoch == want.epoch
    assert got.rng == want.rng
    assert (got.batch_size, got.shuffle_seed) == (want.batch_size, want.shuffle_seed)
    assert got.optimizer_config == want.optimizer_config
    assert list(got.optimizer.buffers) == list(want.optimizer.buffers)
    for name, bufs in want.optimizer.buffers.items():
        for i, (w, g) in enumerate(zip(bufs, got.optimizer.buffers[name])):
            assert g.dtype == w.dtype
            assert_bitwise(f"buffer {name}[{i}]", w, g)


def assert_same_params(want, got):
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert set(a) == set(b)
        for k in a:
            assert b[k].dtype == a[k].dtype
            assert_bitwise(k, a[k], b[k])


def rewrite(path, change):
    """Rewrite a checkpoint's raw contents: ``change(arrays)`` gets every array by
    name, the metadata decoded to a dict under META_KEY (re-encoded after,
    unless ``change`` puts something else there)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays[META_KEY] = json.loads(str(arrays[META_KEY][0]))
    change(arrays)
    if isinstance(arrays[META_KEY], dict):
        arrays[META_KEY] = np.array([json.dumps(arrays[META_KEY])])
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def refused(path, fragments, exc=ValueError, expect=None):
    with pytest.raises(exc) as info:
        manual.load(path, expect=expect)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# ------------------------------------------------------------------ resume, bit for bit


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batching", list(BATCHING))
@pytest.mark.parametrize("optimizer_name", list(OPTIMIZERS))
def test_manual_resume_from_a_file_is_the_unbroken_run(tmp_path, optimizer_name, batching, dtype):
    net = small_net(dtype)
    full = unbroken_run(manual.train, net, optimizer_name, batching)
    losses, second = split_run(manual.train, net, optimizer_name, batching, tmp_path / "run.ckpt")
    assert_same_run(full, losses, second)


def test_resume_with_cross_entropy_and_a_softmax_output(tmp_path):
    net = small_net(np.float32, loss="cross_entropy")
    full = unbroken_run(manual.train, net, "adamw", "shuffled")
    losses, second = split_run(manual.train, net, "adamw", "shuffled", tmp_path / "run.ckpt")
    assert_same_run(full, losses, second)


@pytest.mark.parametrize(
    "lose",
    [
        pytest.param(lambda a: a[META_KEY]["state"].update(step=0), id="step_count"),
        pytest.param(
            lambda a: a.update(
                {f"optimizer.exp_avg.{i}": np.zeros_like(a[f"optimizer.exp_avg.{i}"]) for i in range(4)}
            ),
            id="moments",
        ),
        pytest.param(
            lambda a: a[META_KEY]["state"].update(rng=np.random.default_rng(5).bit_generator.state),
            id="shuffling_rng",
        ),
    ],
)
def test_a_checkpoint_that_lost_part_of_the_state_resumes_differently(tmp_path, lose):
    """The bitwise comparison has teeth: each piece of the state matters."""
    net = small_net()
    full = unbroken_run(manual.train, net, "adam", "shuffled")
    first = trained(net)
    path = tmp_path / "run.ckpt"
    manual.save(path, first.net, first.state)
    rewrite(path, lose)
    loaded_net, state = manual.load(path)
    x, y = make_data(net, N_SAMPLES)
    second = manual.train(
        loaded_net, x, y, manual.Adam(lr=0.01), TOTAL - SPLIT, resume=state, **BATCHING["shuffled"]
    )
    assert not np.array_equal(np.concatenate([first.losses, second.losses]), full.losses)


def test_train_refuses_a_loaded_state_with_another_optimizer_or_batching(tmp_path):
    net = small_net()
    first = trained(net)
    manual.save(tmp_path / "run.ckpt", first.net, first.state)
    loaded_net, state = manual.load(tmp_path / "run.ckpt")
    x, y = make_data(net, N_SAMPLES)
    with pytest.raises(ValueError, match="resume"):
        manual.train(loaded_net, x, y, manual.Adam(lr=0.02), 1, batch_size=8, shuffle_seed=5, resume=state)
    with pytest.raises(ValueError, match="resume"):
        manual.train(loaded_net, x, y, manual.Adam(lr=0.01), 1, batch_size=4, shuffle_seed=5, resume=state)
    state.optimizer_config = {}
    with pytest.raises(ValueError, match="resume: the state has no optimizer_config"):
        manual.train(loaded_net, x, y, manual.Adam(lr=0.01), 1, batch_size=8, shuffle_seed=5, resume=state)


# ------------------------------------------------------------------ round trip


def mixed_bias_net():
    rng = np.random.default_rng(3)
    params = [
        {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)},
        {"W": rng.standard_normal((4, 2))},
    ]
    return manual.MLP.from_params(params, activation=["relu", "sigmoid"], loss="bce", reduction="mean")


@pytest.mark.parametrize(
    "make_net",
    [
        pytest.param(lambda: small_net(np.float64), id="tanh_mse_float64"),
        pytest.param(lambda: small_net(np.float32, loss="cross_entropy"), id="softmax_ce_float32"),
        pytest.param(mixed_bias_net, id="bias_on_one_layer_only"),
    ],
)
def test_load_gives_back_the_net_and_the_state_exactly(tmp_path, make_net):
    history = trained(make_net())
    manual.save(tmp_path / "run.ckpt", history.net, history.state)
    net, state = manual.load(tmp_path / "run.ckpt")
    assert net.spec() == history.net.spec()
    assert_same_params(history.params, net.params)
    assert_same_state(history.state, state)
    # JSON has no tuples: the config must still compare equal to the optimizer's own
    assert state.optimizer_config == manual.Adam(lr=0.01).config()


def test_an_l2_penalty_is_kept_and_a_file_from_before_it_loads_without_one(tmp_path):
    net = manual.MLP([3, 4, 2], activation="tanh", reduction="mean", seed=0, l2=0.25)
    manual.save(tmp_path / "l2.ckpt", net)
    loaded, _ = manual.load(tmp_path / "l2.ckpt", expect=net)
    assert loaded.l2 == 0.25 and loaded.spec() == net.spec()

    def drop_l2(arrays):
        del arrays[META_KEY]["spec"]["l2"]

    rewrite(tmp_path / "l2.ckpt", drop_l2)
    old, _ = manual.load(tmp_path / "l2.ckpt")
    assert old.l2 == 0.0


def test_a_net_saved_without_state_loads_with_state_none(tmp_path):
    net = small_net()
    manual.save(tmp_path / "net.ckpt", net)
    loaded, state = manual.load(tmp_path / "net.ckpt", expect=net)
    assert state is None
    assert_same_params(net.params, loaded.params)


def test_save_writes_exactly_the_given_path(tmp_path):
    net = small_net()
    manual.save(str(tmp_path / "model.ckpt"), net)
    manual.save(tmp_path / "model.npz", net)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt", "model.npz"]


def test_the_file_is_an_npz_that_loads_without_pickle(tmp_path):
    history = trained(small_net())
    manual.save(tmp_path / "run.ckpt", history.net, history.state)
    with np.load(tmp_path / "run.ckpt", allow_pickle=False) as archive:
        meta = json.loads(str(archive[META_KEY][0]))
        assert_bitwise("W1", history.params[0]["W"], archive["param.0.W"])
    assert meta["format"] == "backprop-by-hand checkpoint" and meta["version"] == 1
    assert meta["spec"] == history.net.spec()
    assert meta["state"]["epoch"] == SPLIT and meta["state"]["shuffle_seed"] == 5


# ------------------------------------------------------------------ atomic save


def _fail_mid_write(monkeypatch, calls):
    """np.savez writes one .npy member after another: fail on the third, after
    writing part of it, as a full disk would."""
    real = np.lib.format.write_array

    def write_array(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            fp.write(b"\x93NUMPY partial")
            raise OSError(28, "No space left on device")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return OSError


def _fail_at_fsync(monkeypatch, calls):
    def fsync(fd):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", fsync)
    return KeyboardInterrupt


def _fail_at_rename(monkeypatch, calls):
    def replace(src, dst):
        calls.append(1)
        raise PermissionError(13, "Permission denied", dst)

    monkeypatch.setattr(os, "replace", replace)
    return PermissionError


@pytest.mark.parametrize(
    "fail", [_fail_mid_write, _fail_at_fsync, _fail_at_rename], ids=["mid_write", "ctrl_c_at_fsync", "rename"]
)
def test_an_interrupted_save_leaves_the_old_checkpoint_and_no_temporary(tmp_path, monkeypatch, fail):
    path = tmp_path / "run.ckpt"
    old = trained(small_net(), epochs=2)
    manual.save(path, old.net, old.state)
    old_bytes = path.read_bytes()

    new = trained(small_net(), epochs=5)
    calls = []
    with monkeypatch.context() as patch:
        error = fail(patch, calls)
        with pytest.raises(error):
            manual.save(path, new.net, new.state)
    assert calls, "the failure was never triggered: the test no longer interrupts the save"

    assert os.listdir(tmp_path) == ["run.ckpt"]
    assert path.read_bytes() == old_bytes
    net, state = manual.load(path)
    assert_same_params(old.params, net.params)
    assert state.epoch == 2


def test_an_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    with monkeypatch.context() as patch:
        _fail_mid_write(patch, calls)
        with pytest.raises(OSError):
            manual.save(tmp_path / "run.ckpt", small_net())
    assert os.listdir(tmp_path) == []


def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    manual.save(path, small_net())
    later = trained(small_net(), epochs=3)
    manual.save(path, later.net, later.state)
    net, state = manual.load(path)
    assert_same_params(later.params, net.params)
    assert state.epoch == 3
    assert os.listdir(tmp_path) == ["run.ckpt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_checkpoint_gets_a_plain_files_permissions(tmp_path):
    manual.save(tmp_path / "run.ckpt", small_net())
    (tmp_path / "plain").write_bytes(b"")
    mode = os.stat(tmp_path / "run.ckpt").st_mode & 0o777
    assert mode == os.stat(tmp_path / "plain").st_mode & 0o777


@pytest.mark.parametrize(
    "args,exc,fragment",
    [
        pytest.param(lambda: ("not a net", None), TypeError, "manual.MLP", id="net_not_an_mlp"),
        pytest.param(
            lambda: (small_net(), {"epoch": 3}), TypeError, "TrainState", id="state_not_a_trainstate"
        ),
        pytest.param(
            lambda: (manual.MLP([3, 4, 2]), trained(small_net()).state),
            ValueError,
            "buffer",
            id="state_of_another_net",
        ),
        pytest.param(
            lambda: (small_net(np.float32), trained(small_net()).state),
            ValueError,
            "float64",
            id="state_of_another_dtype",
        ),
        pytest.param(lambda: (_diverged_net(), None), ValueError, "non-finite", id="diverged_params"),
        pytest.param(
            lambda: (small_net(), _with(trained(small_net()).state, rng=None)),
            ValueError,
            "rng",
            id="rng_missing_with_a_shuffle_seed",
        ),
        pytest.param(
            lambda: (small_net(), _with(trained(small_net()).state, optimizer_config={})),
            ValueError,
            "optimizer_config is {}; train.resume=.... needs the optimizer's config",
            id="empty_optimizer_config",
        ),
    ],
)
def test_save_refuses_what_it_could_not_load_back_and_writes_nothing(tmp_path, args, exc, fragment):
    net, state = args()
    with pytest.raises(exc, match=fragment):
        manual.save(tmp_path / "run.ckpt", net, state)
    assert os.listdir(tmp_path) == []


def _diverged_net():
    net = small_net()
    net.params[1]["W"][0, 0] = np.inf  # the arrays are the net's own
    return net


def _with(state, **changes):
    state = state.copy()
    for k, v in changes.items():
        setattr(state, k, v)
    return state


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        manual.save(tmp_path / "nowhere" / "run.ckpt", small_net())


# ------------------------------------------------------------------ refused files


@pytest.fixture
def checkpoint(tmp_path):
    history = trained(small_net())
    path = tmp_path / "run.ckpt"
    manual.save(path, history.net, history.state)
    return path


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        manual.load(tmp_path / "nope.ckpt")
    assert str(tmp_path / "nope.ckpt") in str(info.value)


def _plain_savez(path):
    with open(path, "wb") as f:
        np.savez(f, W=np.ones((3, 5)), b=np.zeros(5))


def _plain_npy(path):
    with open(path, "wb") as f:
        np.save(f, np.ones(3))


def _other_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")


@pytest.mark.parametrize(
    "write,fragments",
    [
        pytest.param(
            lambda p: p.write_text("epoch,loss\n1,0.5\n"), ["not a checkpoint", "not an .npz"], id="text"
        ),
        pytest.param(lambda p: p.write_bytes(b""), ["empty"], id="empty"),
        pytest.param(_plain_savez, ["not a checkpoint", "np.savez"], id="plain_savez"),
        pytest.param(_plain_npy, ["not a checkpoint", "not an .npz"], id="plain_npy"),
        pytest.param(_other_zip, ["not a checkpoint"], id="other_zip"),
        pytest.param(lambda p: p.mkdir(), ["directory"], id="directory"),
    ],
)
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, write, fragments):
    path = tmp_path / "thing.ckpt"
    write(path)
    refused(path, fragments)


def test_every_truncation_is_refused(checkpoint):
    data = checkpoint.read_bytes()
    # every cut in the zip's tail (the directory) and a stride through the rest
    cuts = sorted(set(range(1, len(data), 37)) | set(range(len(data) - 200, len(data))))
    for n in cuts:
        checkpoint.write_bytes(data[:n])
        refused(checkpoint, [])


def test_a_flipped_byte_is_refused_or_harmless(checkpoint):
    """Every member carries a CRC, checked before anything is parsed: a damaged
    byte is either refused or sits where nothing is read (a header's spare
    field) and the checkpoint loads exactly as it was saved."""
    data = checkpoint.read_bytes()
    want_net, want_state = manual.load(checkpoint)
    outcomes = {"refused": 0, "harmless": 0}
    for i in range(0, len(data), 11):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        checkpoint.write_bytes(bytes(damaged))
        try:
            net, state = manual.load(checkpoint)
        except ValueError as err:
            assert str(checkpoint) in str(err)
            outcomes["refused"] += 1
            continue
        assert net.spec() == want_net.spec()
        assert_same_params(want_net.params, net.params)
        assert_same_state(want_state, state)
        outcomes["harmless"] += 1
    assert outcomes["refused"] > 0.8 * sum(outcomes.values()), outcomes


@pytest.mark.parametrize(
    "expect,fragments",
    [
        pytest.param(
            lambda: manual.MLP([3, 4, 2], activation="tanh"),
            ["sizes", "[3, 5, 2]", "[3, 4, 2]"],
            id="other_sizes",
        ),
        pytest.param(lambda: small_net(np.float32), ["dtype", "float64", "float32"], id="other_dtype"),
        pytest.param(
            lambda: manual.MLP([3, 5, 2], activation="relu"), ["activations", "relu"], id="other_activation"
        ),
        pytest.param(lambda: small_net(loss="cross_entropy"), ["loss", "reduction"], id="other_loss"),
        pytest.param(lambda: manual.MLP([3, 5, 2], activation="tanh", bias=False), ["bias"], id="no_bias"),
    ],
)
def test_a_checkpoint_of_another_net_is_refused_when_expect_is_given(checkpoint, expect, fragments):
    expected = expect()
    before = expected.copy().params
    refused(checkpoint, ["does not match the expected net", *fragments], expect=expected)
    assert_same_params(before, expected.params)


def _set(mapping_path, value):
    """A change for ``rewrite``: set one metadata entry, e.g. ("spec", "sizes")."""

    def change(arrays):
        target = arrays[META_KEY]
        for key in mapping_path[:-1]:
            target = target[key]
        target[mapping_path[-1]] = value

    return change


def _set_array(key, value):
    def change(arrays):
        arrays[key] = value(arrays[key]) if callable(value) else value

    return change


def _drop_array(key):
    return lambda arrays: arrays.pop(key)


CORRUPTIONS = {
    # arrays that disagree with the recorded spec
    "W_of_another_shape": (_set_array("param.0.W", np.zeros((4, 5))), ["param.0.W", "(4, 5)", "(3, 5)"]),
    "array_of_another_dtype": (
        _set_array("param.1.b", lambda a: a.astype(np.float32)),
        ["param.1.b", "float32"],
    ),
    "missing_param": (_drop_array("param.1.W"), ["param.1.W", "missing"]),
    "extra_array": (_set_array("param.2.W", np.zeros((2, 2))), ["unexpected arrays", "param.2.W"]),
    "spec_without_a_bias_it_has": (
        _set("spec bias".split(), [True, False]),
        ["unexpected arrays", "param.1.b"],
    ),
    "spec_with_other_sizes": (_set("spec sizes".split(), [3, 4, 2]), ["param.0.W", "(3, 4)"]),
    "spec_unknown_activation": (_set("spec activations".split(), ["tanh", "swish"]), ["swish"]),
    "spec_bad_dtype": (_set("spec dtype".split(), "int8"), ["dtype", "int8"]),
    "spec_wrong_length": (_set("spec activations".split(), ["tanh"]), ["activations"]),
    "buffer_of_another_shape": (_set_array("optimizer.exp_avg.2", np.zeros((2, 5))), ["optimizer.exp_avg.2"]),
    "buffer_missing": (_drop_array("optimizer.exp_avg_sq.3"), ["optimizer.exp_avg_sq.3", "missing"]),
    # a state that does not fit together
    "buffers_of_another_optimizer": (_set("state buffers".split(), ["momentum_buffer"]), ["buffers"]),
    "unknown_optimizer": (
        _set("state optimizer_config name".split(), "rmsprop"),
        ["optimizer_config", "rmsprop"],
    ),
    "negative_step": (_set("state step".split(), -1), ["step"]),
    "fractional_epoch": (_set("state epoch".split(), 1.5), ["epoch"]),
    "rng_of_another_generator": (_set("state rng bit_generator".split(), "MT19937"), ["generator"]),
    "rng_without_shuffle_seed": (_set("state shuffle_seed".split(), None), ["rng"]),
    "state_key_missing": (lambda a: a[META_KEY]["state"].pop("epoch"), ["state", "epoch"]),
    "empty_optimizer_config": (_set("state optimizer_config".split(), {}), ["optimizer_config is empty"]),
    # metadata that is not ours
    "no_format_marker": (_set(["format"], "something else"), ["not a checkpoint", "format marker"]),
    "future_version": (_set(["version"], 2), ["version 2"]),
    "metadata_not_json": (_set_array(META_KEY, np.array(["{not json"])), ["JSON"]),
    "metadata_not_a_string": (_set_array(META_KEY, np.arange(3.0)), ["not one JSON string"]),
    "metadata_pickled": (_set_array(META_KEY, np.array([{"format": 1}], dtype=object)), ["pickle"]),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_an_inconsistent_checkpoint_is_refused_naming_what_is_wrong(checkpoint, name):
    change, fragments = CORRUPTIONS[name]
    rewrite(checkpoint, change)
    refused(checkpoint, fragments)


def test_a_corrupt_checkpoint_does_not_touch_expect(checkpoint):
    expect = small_net()
    before = expect.copy().params
    rewrite(checkpoint, _drop_array("optimizer.exp_avg.0"))
    refused(checkpoint, ["missing"], expect=expect)
    assert_same_params(before, expect.params)
