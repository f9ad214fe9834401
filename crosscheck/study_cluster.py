"""Where a study's chunks run, and where they are kept.

Here, one after another (the default); on a Dask ``LocalCluster`` of N worker processes
(``--workers N``); or on a running Dask scheduler (``--scheduler tcp://HOST:PORT``, its
workers started with ``dask worker``). Dask retries a chunk whose worker is lost; each
chunk's result is taken once, from its future, so nothing is counted twice. With
``--out DIR`` every chunk is written as soon as it is back (by this process, so the
workers need no shared disk), atomically; ``--resume`` computes only the chunks missing.
"""

import hashlib
import json
import logging
import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import UsageError
from .inputs import load_npz
from .study import merge, run_chunk

FORMAT = "backprop-by-hand study 2"  # 2: each chunk file carries its study's fingerprint
CHUNK_FILE = re.compile(r"chunk-(\d{5})\.npz")
PROBE_SECONDS = 5  # how long a scheduler may take to send its handshake
KEYS = ("chunk", "final_loss", "learned", "first", "frozen", "curves", "seconds")


class Interrupted(Exception):
    """A study stopped by Ctrl-C (SIGINT): what was kept, in one line."""


def _identity(definition):
    """What study.json holds, as it reads back (JSON's lists, not tuples)."""
    return json.loads(
        json.dumps({"format": FORMAT, "definition": definition.to_json(), "chunk": definition.chunk})
    )


class Store:
    """``--out DIR``: ``study.json`` (what is studied, and the chunk size) and one
    ``chunk-NNNNN.npz`` per finished chunk. Checked when made; nothing is written until
    ``create()``, so a refused directory is left as it was."""

    def __init__(self, path, definition, resume):
        if path is None:
            raise UsageError("--resume needs --out DIR: the directory the stopped run wrote its chunks to")
        self.path, self.definition = Path(path), definition
        self.identity = _identity(definition)
        # in every chunk file: a chunk copied in from another study is refused, not merged
        self.fingerprint = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()
        meta = self.path / "study.json"
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {path}: expected a directory, got a file")
        if meta.is_file():
            try:
                stored = json.loads(meta.read_text())
            except (OSError, ValueError) as err:
                raise UsageError(f"--out {path}: study.json cannot be read ({err})") from None
            if not resume:
                raise UsageError(
                    f"--out {path} already holds a study ({len(self._files())} chunk files): add --resume to "
                    "finish it, or give another directory"
                )
            if stored != self.identity:
                raise UsageError(
                    f"--resume {path}: that study differs from this one: {_difference(stored, self.identity)}"
                )
        elif resume:
            raise UsageError(f"--resume: {path} holds no study to resume (no study.json)")
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise UsageError(
                f"--out {path}: the directory is not empty and holds no study; give a new or empty one"
            )

    def _files(self):
        return (
            sorted(p for p in self.path.iterdir() if CHUNK_FILE.fullmatch(p.name))
            if self.path.is_dir()
            else []
        )

    def create(self):
        self.path.mkdir(parents=True, exist_ok=True)
        meta = self.path / "study.json"
        if not meta.exists():
            _atomic(meta, lambda f: f.write(json.dumps(self.identity, indent=1).encode()))

    def done(self):
        """``{chunk index: result}`` of the chunks on disk, each checked against the study."""
        chunks = {c[0]: c for c in self.definition.chunks()}
        results = {}
        for p in self._files():
            index = int(CHUNK_FILE.fullmatch(p.name).group(1))
            try:
                arrays = load_npz(p)  # no zip, a broken member, an object array: refused alike
            except UsageError:
                raise UsageError(
                    f"--resume: {p} is not a whole .npz archive (cut short, or not a chunk); "
                    "remove it to recompute it"
                ) from None
            missing = [k for k in KEYS if k not in arrays]
            if missing:
                raise UsageError(
                    f"--resume: {p} cannot be read as a chunk (KeyError: it has no {', '.join(missing)}); "
                    "remove it to recompute it"
                )
            result = {k: arrays[k] for k in KEYS}
            fingerprint = str(arrays["study"]) if "study" in arrays else None
            if fingerprint != self.fingerprint:
                raise UsageError(
                    f"--resume: {p} is a chunk of another study (its fingerprint is not this study's); "
                    "remove it to recompute it"
                )
            if index not in chunks or tuple(result["chunk"]) != chunks[index]:
                raise UsageError(
                    f"--resume: {p} holds chunk {tuple(result['chunk'])}, not chunk {index} of this study"
                )
            results[index] = result
        return results

    def save(self, result):
        index = int(result["chunk"][0])
        _atomic(
            self.path / f"chunk-{index:05d}.npz",
            lambda f: np.savez_compressed(f, study=np.array(self.fingerprint), **result),
        )


def _atomic(path, write):
    """``write(file)`` to a temporary file beside ``path``, then renamed onto it: a reader sees
    the whole file or none."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # as open() would make it, not mkstemp's owner-only
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _difference(stored, given):
    """The first field where two studies' identities differ, as a phrase."""
    a, b = stored.get("definition", {}), given["definition"]
    for key in sorted(set(a) | set(b)):
        if key == "data" and a.get(key) != b.get(key):
            return _data_difference(a.get(key) or [], b.get(key) or [])
        if a.get(key) != b.get(key):
            return f"{key} was {a.get(key)!r}, now {b.get(key)!r}"
    if stored.get("chunk") != given["chunk"]:
        return f"it was cut into chunks of {stored.get('chunk')} starts (give --chunk {stored.get('chunk')})"
    return f"its format is {stored.get('format')!r}"


def _data_difference(was, now):
    """ "the contents of e2 changed (another SHA-256)", or the data sets' names, as a phrase."""
    names = [d.get("name") for d in was], [d.get("name") for d in now]
    if names[0] != names[1]:
        return f"the data sets were {', '.join(map(str, names[0]))}, now {', '.join(map(str, names[1]))}"
    for old, new in zip(was, now):
        if old != new:
            what = "contents" if old.get("sha256") != new.get("sha256") else "shape"
            return f"the {what} of data set {old.get('name')} changed since the study began"
    return "the data sets differ"


# ------------------------------------------------------------------ executors


class InProcess:
    where, workers = "this process", 1

    def map(self, definition, chunks, progress):
        for chunk in chunks:
            yield run_chunk(definition, chunk, progress)


class OnDask:
    """Chunks as Dask tasks, yielded as they finish."""

    def __init__(self, client, where):
        self.client, self.where = client, where
        self.workers = max(1, len(client.scheduler_info()["workers"]))

    def map(self, definition, chunks, progress):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        futures = [
            self.client.submit(run_chunk, definition, c, pure=False, key=f"study-chunk-{c[0]}")
            for c in chunks
        ]
        for future in as_completed(futures):
            try:
                result = future.result()
            except KilledWorker as err:
                raise UsageError(
                    f"a chunk's workers died one after another, so Dask gave it up: {err}"
                ) from None
            except ModuleNotFoundError as err:
                raise UsageError(
                    f"the Dask workers cannot import backprop-by-hand ({err}): install it on every worker"
                ) from None
            future.release()
            if progress is not None:
                progress(definition.epochs)
            yield result


@contextmanager
def executor(workers=None, scheduler=None, say=None):
    """The place the chunks run; ``say(text)`` is told where (and the Dask dashboard, if any)."""
    if workers is None and scheduler is None:
        yield InProcess()
        return
    if workers is not None and scheduler is not None:
        raise UsageError(
            "--workers and --scheduler: give one (a LocalCluster of N workers, or a running cluster)"
        )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"--workers: expected a count >= 1, got {workers!r}")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(
            "--workers and --scheduler need Dask: pip install 'backprop-by-hand[dask]'"
        ) from None
    if scheduler is not None:
        _reachable(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except Exception as err:  # whatever answered there, its bytes read as Dask's: any error
            raise UsageError(
                f"--scheduler {scheduler}: could not reach a Dask scheduler there "
                f"({type(err).__name__}: {err})"
            ) from None
        try:
            if say is not None and not client.scheduler_info().get("workers"):
                say(f"the scheduler at {scheduler} has no worker yet; waiting up to 60 s for one to join")
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            client.close()
            raise UsageError(
                f"--scheduler {scheduler}: no worker joined within 60 s; "
                f"start one with: dask worker {scheduler}"
            ) from None
        cluster, where = None, f"the Dask scheduler at {scheduler}"
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: two studies at once do not collide
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        where = f"a Dask LocalCluster of {workers} worker process{'es' if workers > 1 else ''}"
    try:
        if say is not None:
            # the scheduler's dashboard (its page asks for bokeh where bokeh is not installed)
            running = "dashboard" in client.scheduler_info().get("services", {})
            link = client.dashboard_link if running else None
            say(f"running on {where}" + (f"; dashboard: {link}" if link else ""))
        yield OnDask(client, where)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _reachable(address):
    """A refused or unroutable tcp:// address fails here at once, not after Dask's retries;
    so does a listener that is not a Dask scheduler. A scheduler speaks first on a new
    connection (its handshake: an 8-byte little-endian length, then that many bytes of
    frames), so one that says nothing within ``PROBE_SECONDS``, or announces an absurd
    length, is not one."""
    m = re.fullmatch(r"tcp://(\[[^\]]+\]|[^:/]+):(\d+)/?", address)
    if not m:
        raise UsageError(f"--scheduler: expected an address like tcp://HOST:8786, got {address!r}")
    try:
        conn = socket.create_connection((m.group(1).strip("[]"), int(m.group(2))), timeout=PROBE_SECONDS)
    except OSError as err:
        raise UsageError(f"--scheduler {address}: could not reach a Dask scheduler there ({err})") from None
    with conn:
        head = b""
        try:
            while len(head) < 8:
                got = conn.recv(8 - len(head))
                if not got:
                    break
                head += got
        except OSError:  # the timeout included
            pass
    if len(head) < 8:
        raise UsageError(
            f"--scheduler {address}: something listens there but did not answer as a Dask scheduler "
            f"does within {PROBE_SECONDS:g} s (is it a Dask scheduler's address? `dask scheduler` prints it)"
        )
    if int.from_bytes(head, "little") > 1 << 24:
        raise UsageError(
            f"--scheduler {address}: something answers there, but not as a Dask scheduler does "
            "(is it a Dask scheduler's address? `dask scheduler` prints it)"
        )


# ------------------------------------------------------------------ a study, anywhere


def run(
    definition, workers=None, scheduler=None, out=None, resume=False, progress=None, on_chunk=None, say=None
):
    """The ``Study`` of ``definition``, its chunks run by ``executor(workers, scheduler)``
    and kept under ``out`` (``resume``: only the missing ones computed). ``progress(k)``:
    k more epochs of chunks done; ``on_chunk(chunk, result)`` after each computed chunk."""
    store = Store(out, definition, resume) if (out is not None or resume) else None
    results = store.done() if store else {}
    todo = [c for c in definition.chunks() if c[0] not in results]
    if progress is not None and results:
        progress(len(results) * definition.epochs)
    inside = 0.0
    try:
        with executor(workers, scheduler, say) as place:
            if store:
                store.create()
            began = time.perf_counter()
            for result in place.map(definition, todo, progress):
                chunk = tuple(int(v) for v in result["chunk"])
                if chunk[0] in results:  # a retried task's second answer: counted once
                    continue
                if store:
                    store.save(result)
                results[chunk[0]] = result
                inside += float(result["seconds"])
                if on_chunk is not None:
                    on_chunk(chunk, result)
            wall = time.perf_counter() - began
    except KeyboardInterrupt:
        total = len(definition.chunks())
        kept = (
            f"{len(results)} of {total} chunks are under {out}; add --resume to finish"
            if store
            else f"{len(results)} of {total} chunks were done and are not kept (--out DIR keeps them)"
        )
        raise Interrupted(f"interrupted: {kept}") from None
    study = merge(definition, results)
    study.timing = {
        "where": place.where,
        "workers": place.workers,
        "chunks": len(definition.chunks()),
        "computed": len(todo),
        "wall_seconds": wall,
        "chunk_seconds": inside,
        # the time a chunk costs beyond its own computing, spread over the workers
        "overhead_per_chunk_seconds": (wall * place.workers - inside) / len(todo) if todo else None,
    }
    return study
