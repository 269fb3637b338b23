"""Hostile checkpoints: every one is refused with a ValueError naming the file, before
anything large is allocated. The loads run in a subprocess whose address space is capped
(``resource.setrlimit(RLIMIT_AS)``) at about 1 GiB above what Python and NumPy already use,
so an attempt to allocate what a file declares would surface as a MemoryError there.

And saves that are killed (``kill -9``) mid-write: the checkpoint stays loadable, and the
next save removes the temporary files the killed ones left.
"""
import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib

import numpy as np
import pytest

import minigrad
from minigrad import serialization

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_AS and /proc are Linux's")


def structure(root):
    text = json.dumps({"format": serialization.FORMAT, "version": 1, "root": root})
    return text.encode()


def npy_header(shape, descr="<f8"):
    """A .npy header (version 1.0) declaring ``shape`` of ``descr``, without the data."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """A zip of raw members {name: bytes}, plus a structure naming array 'x'."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr(serialization.STRUCTURE_KEY + ".npy", npy_structure(
            {"t": "tensor", "name": "x"}))


def npy_structure(root):
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(structure(root), dtype=np.uint8))
    return buffer.getvalue()


def deflate_bomb(prefix, zeros):
    """(method, crc, size, raw deflate stream) of ``prefix`` + ``zeros`` zero bytes, made
    without compressing them all: after a full flush the compressor forgets its history, so
    one compressed 16 MiB block of zeros stands for every other."""
    chunk = bytes(2**24)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(prefix)
    for _ in range(zeros // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    stream = head + block * (zeros // len(chunk)) + compressor.flush()
    return zipfile.ZIP_DEFLATED, crc, len(prefix) + zeros, stream


def raw_zip(path, entries):
    """A zip written by hand, so a member can be any raw stream: entries are (name, (method,
    data)) or (name, (method, crc, size, stream))."""
    local, central = b"", b""
    for name, entry in entries:
        if len(entry) == 2:
            method, data = entry
            entry = (method, zlib.crc32(data), len(data), data)
        method, crc, size, stream = entry
        fields = (20, 0, method, 0, 33, crc, len(stream), size, len(name), 0)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0,
                               len(local)) + name.encode()
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name.encode() + stream
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(local), 0)
    path.write_bytes(local + central + end)


def make_hostile_files(folder):
    """{file name: words the refusal must contain}."""
    expected = {}
    # A size bomb: 584 bytes declaring 10^12 float64 values (8 TB).
    write_zip(folder / "size_bomb.npz", {"x.npy": npy_header((10**6, 10**6))})
    expected["size_bomb.npz"] = "declares shape"
    # The same, with the zip directory lying that the member holds 3 GB.
    path = folder / "zip_lies.npz"
    write_zip(path, {"x.npy": npy_header((3 * 10**8, 10))})
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")                                 # first central entry
    data[entry + 20:entry + 28] = struct.pack("<II", 3 * 10**9, 3 * 10**9)
    path.write_bytes(bytes(data))
    expected["zip_lies.npz"] = "more than the file"
    # A deflate bomb: 1 MB of compressed zeros that would inflate to 1 GiB.
    header = npy_header((2**27,))
    raw_zip(folder / "deflate_bomb.npz", [("x.npy", deflate_bomb(header, 2**30)),
                                          (serialization.STRUCTURE_KEY + ".npy",
                                           (zipfile.ZIP_STORED, npy_structure(
                                               {"t": "tensor", "name": "x"})))])
    expected["deflate_bomb.npz"] = "compressed"
    # Deep nesting: JSON deeper than the parser's recursion, and deeper than MAX_DEPTH.
    with zipfile.ZipFile(folder / "deep_json.npz", "w") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(b"[" * 200_000 + b"]" * 200_000, dtype=np.uint8))
        archive.writestr(serialization.STRUCTURE_KEY + ".npy", buffer.getvalue())
    expected["deep_json.npz"] = "nested deeper"
    deep = {"t": "value", "v": 1}
    for _ in range(serialization.MAX_DEPTH + 10):
        deep = {"t": "list", "items": [deep]}
    with zipfile.ZipFile(folder / "deep_spec.npz", "w") as archive:
        archive.writestr(serialization.STRUCTURE_KEY + ".npy", npy_structure(deep))
    expected["deep_spec.npz"] = "nested deeper"
    # Arrays that are not numbers: strings (save refuses them), structured, object.
    for name, descr in [("strings", "<U10"), ("structured", [("a", "<f8"), ("b", "O")]),
                        ("objects", "|O")]:
        write_zip(folder / f"{name}.npz", {"x.npy": npy_header((2,), descr) + bytes(80)})
        expected[f"{name}.npz"] = "only numeric and boolean arrays"
    # Names that mean a path outside the archive.
    for i, name in enumerate(["../../evil.npy", "/abs/evil.npy", "a/../../b.npy",
                              "C:\\evil.npy", "ok.txt"]):
        write_zip(folder / f"traversal{i}.npz", {name: npy_header((1,)) + bytes(8)})
        expected[f"traversal{i}.npz"] = "not a plain"
    # One array referenced many times (would multiply memory): refused.
    good = io.BytesIO()
    np.save(good, np.zeros(4))
    with zipfile.ZipFile(folder / "aliases.npz", "w") as archive:
        archive.writestr("x.npy", good.getvalue())
        archive.writestr(serialization.STRUCTURE_KEY + ".npy", npy_structure(
            {"t": "list", "items": [{"t": "array", "name": "x"}] * 1000}))
    expected["aliases.npz"] = "refers to it twice"
    # A whole-module record whose constructor would allocate 4 TB for a tiny state.
    with zipfile.ZipFile(folder / "module_bomb.npz", "w") as archive:
        record = {"t": "dict", "items": [
            [["s", "class"], {"t": "value", "v": "Linear"}],
            [["s", "args"], {"t": "list", "items": [{"t": "value", "v": 10**6}] * 2}],
            [["s", "kwargs"], {"t": "dict", "items": []}],
            [["s", "tree"], {"t": "list", "items": []}],
            [["s", "state"], {"t": "dict", "items": []}]]}
        archive.writestr(serialization.STRUCTURE_KEY + ".npy",
                         npy_structure({"t": "module", "record": record}))
    expected["module_bomb.npz"] = "cannot be rebuilt"
    return expected


LOADER = textwrap.dedent("""
    import json, os, resource, sys
    import numpy as np
    import minigrad
    import nn
    pages = int(open("/proc/self/statm").read().split()[0])
    used = pages * os.sysconf("SC_PAGE_SIZE")
    limit = used + 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:                                     # the cap works: 2 GiB cannot be had
        np.ones(2**28)
        control = "allocated"
    except MemoryError:
        control = "MemoryError"
    results = {"control": control}
    for name in sys.argv[2:]:
        try:
            minigrad.load(os.path.join(sys.argv[1], name))
            results[name] = ["loaded", ""]
        except BaseException as error:
            results[name] = [type(error).__name__, str(error)]
    print(json.dumps(results))
""")


@linux_only
def test_hostile_files_are_refused_under_a_memory_limit(tmp_path):
    expected = make_hostile_files(tmp_path)
    assert (tmp_path / "size_bomb.npz").stat().st_size < 1000
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", LOADER, str(tmp_path), *expected],
                         capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert results.pop("control") == "MemoryError"
    for name, words in expected.items():
        kind, message = results[name]
        assert kind == "ValueError", (name, kind, message)
        assert name in message and words in message, (name, message)


# ---------------------------------------------------------------------------
# kill -9 in the middle of saves
# ---------------------------------------------------------------------------
SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import minigrad
    weights = np.random.default_rng(0).standard_normal(4_000_000)    # 32 MB a save
    step = 0
    while True:
        step += 1
        minigrad.save({"step": step, "w": weights}, sys.argv[1])
""")


def temps(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_saves_killed_mid_write_leave_a_loadable_file_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "ckpt.npz"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    kills = 0
    for _ in range(4):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], env=env, cwd=ROOT)
        deadline = time.monotonic() + 120
        while not temps(tmp_path) and saver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)                                          # until it is writing
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        kills += saver.returncode == -signal.SIGKILL
        if target.exists():
            assert minigrad.load(target)["w"].shape == (4_000_000,)    # never half-written
    assert kills == 4
    assert temps(tmp_path), "no kill landed mid-write: the test exercised nothing"

    minigrad.save({"step": 0, "w": np.zeros(3)}, target)
    assert temps(tmp_path) == []
    assert minigrad.load(target)["step"] == 0


def test_only_temps_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "ckpt.npz"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        prefix = serialization._temp_prefix(str(target))
        live_temp = tmp_path / f"{prefix}{sleeper.pid}.abc.tmp"        # a save in progress
        dead_temp = tmp_path / f"{prefix}{dead.pid}.abc.tmp"           # a killed save's
        other = tmp_path / ".other.npz.saving-1.abc.tmp"               # another target's
        for f in (live_temp, dead_temp, other):
            f.write_bytes(b"partial")
        minigrad.save({"a": 1}, target)
        assert sorted(temps(tmp_path)) == sorted([live_temp.name, other.name])
    finally:
        sleeper.kill()
        sleeper.wait()
