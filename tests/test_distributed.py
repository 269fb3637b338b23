"""Data parallelism over MPI: the scenarios of tests/distributed_worker.py run under
``mpiexec -n 2`` as subprocesses (with timeouts, so a hang fails instead of blocking), and
the one-process pieces (buckets, sampler, argument errors) run here directly.

The MPI tests need ``mpiexec`` and mpi4py (``pip install "minigrad-rnn[mpi]"``). They skip
without them on a developer's machine, and fail in CI (the CI variable set), where the test
command installs the extra.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

import minigrad
import minigrad.distributed as dist
import nn
from minigrad.distributed import mpi_transport, process_group
from nn.parallel import DistributedDataParallel

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORKER = os.path.join(ROOT, "tests", "distributed_worker.py")
CHAR_LM = os.path.join(ROOT, "examples", "char_lm.py")


def find_mpiexec():
    """The mpiexec beside this Python (pip's mpich puts it there), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


MPIEXEC = find_mpiexec()
HAVE_MPI = MPIEXEC is not None and importlib.util.find_spec("mpi4py") is not None


@pytest.fixture
def mpi():
    if not HAVE_MPI:
        reason = "mpiexec and mpi4py are needed: pip install 'minigrad-rnn[mpi]'"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must install the mpi extra)")
        pytest.skip(reason)
    return MPIEXEC


def environment():
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for name in mpi_transport.LAUNCHER_SIZE_VARIABLES:      # we may run inside a launcher
        env.pop(name, None)
    return env


def launch(command, timeout=120, cwd=ROOT):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=environment())


def run_worker(mpiexec, scenario, tmp_path, ranks=2):
    out = tmp_path / f"{scenario}.json"
    prefix = [mpiexec, "-n", str(ranks)] if ranks else []
    done = launch(prefix + [sys.executable, WORKER, scenario, str(out)])
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


# -- two ranks -------------------------------------------------------------------------------
def test_two_ranks_on_half_batches_match_one_process_on_whole_batches(mpi, tmp_path):
    result = run_worker(mpi, "equivalence", tmp_path)
    assert result["max_difference"] < 1e-9          # 3 SGD + 3 Adam steps, float64
    assert result["same_on_all_ranks"] and result["buffers_from_rank_0"]
    assert 1 < result["buckets"] < result["parameters"]        # bucketed, not per parameter
    assert result["allreduces_last_backward"] == result["buckets"]


def test_no_sync_accumulation_equals_one_big_step(mpi, tmp_path):
    result = run_worker(mpi, "no_sync", tmp_path)
    assert result["grads_local_inside_no_sync"]     # nothing was averaged inside no_sync
    assert result["max_difference"] < 1e-9
    assert result["same_on_all_ranks"]


def test_mismatched_models_are_refused_on_every_rank(mpi, tmp_path):
    messages = run_worker(mpi, "mismatch", tmp_path)["messages"]
    assert len(messages) == 2
    for message in messages:
        assert "differ across ranks" in message and "'lstm.weight_ih_l0'" in message
        assert "(24, 3)" in message and "(28, 3)" in message


@pytest.mark.parametrize("scenario,text", [("raise", "ValueError: rank 1 fails on purpose"),
                                           ("exit", "error: rank 1 exits on purpose")])
def test_one_failing_rank_ends_the_whole_job(mpi, tmp_path, scenario, text):
    # rank 0 waits in a collective that rank 1 never joins; without the abort this hangs
    done = launch([mpi, "-n", "2", sys.executable, WORKER, scenario, str(tmp_path / "x.json")],
                  timeout=30)
    assert done.returncode != 0
    assert f"[rank 1/2] {text}" in done.stderr
    assert not (tmp_path / "x.json").exists()       # rank 0 never finished


def test_without_mpiexec_the_world_is_one_process(mpi, tmp_path):
    result = run_worker(mpi, "single", tmp_path, ranks=0)
    assert (result["size"], result["rank"], result["backend"]) == (1, 0, "mpi")
    assert result["all_reduce"] == [2.0, 3.0]
    assert result["max_difference"] == 0.0


def test_char_lm_trains_on_two_ranks_and_resumes_on_one(mpi, tmp_path):
    out = str(tmp_path / "run")
    flags = [CHAR_LM, "--smoke", "--distributed", "--no-pictures", "--out", out]
    first = launch([mpi, "-n", "2", sys.executable] + flags + ["--steps", "6", "--eval-every", "6"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("data:") == 1          # only rank 0 logs
    assert "2 ranks" in first.stdout and "sample identical on all 2 ranks" in first.stdout
    assert os.path.exists(os.path.join(out, "ckpt.npz"))
    alone = launch([sys.executable] + flags[:2] + ["--no-pictures", "--out", str(tmp_path / "one"),
                                                   "--steps", "6", "--eval-every", "6"])
    log_line = [line for line in alone.stdout.splitlines() if line.startswith("step     6")]
    assert log_line and log_line[0] in first.stdout     # the same losses as one process (4 digits)
    second = launch([mpi, "-n", "1", sys.executable] + flags + ["--resume", "--steps", "8"])
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resumed" in second.stdout and "at step 6" in second.stdout
    assert "after 8 steps" in second.stdout


# -- one process, no MPI needed ------------------------------------------------------------------
@pytest.fixture
def world_of_one():
    """The default group as a one-process world, without initializing MPI in pytest."""
    assert not dist.is_initialized()
    process_group.DEFAULT.transport = mpi_transport.SingleProcessTransport()
    yield
    dist.destroy_process_group()


def test_buckets_hold_about_the_cap_and_start_in_reverse_order(world_of_one):
    model = nn.Sequential(*[nn.Linear(256, 256) for _ in range(6)])    # 6 x 257 KiB
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.6)
    assert len(ddp.bucket_sizes) == 3                   # two layers' weights and biases each
    first_bucket = ddp.reducer.buckets[0].params
    assert first_bucket[0] is model[5].bias             # the last layer's, finished first
    loss = ddp(minigrad.randn(4, 256)).sum()
    loss.backward()
    assert ddp.reducer.allreduces_last_backward == 3
    assert len(DistributedDataParallel(model).bucket_sizes) == 1       # 25 MiB default


def test_ddp_in_a_world_of_one_gives_the_plain_gradients(world_of_one):
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = minigrad.randn(5, 3, dtype=minigrad.float64)
    model(x).sum().backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    ddp = DistributedDataParallel(model)
    ddp(x).sum().backward()
    for p, g in zip(model.parameters(), plain):
        assert (p.grad.numpy() == g).all()
    assert list(ddp.state_dict())[0].startswith("module.")


def test_a_parameter_no_rank_used_keeps_no_gradient(world_of_one):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    ddp = DistributedDataParallel(model)
    model[0](minigrad.randn(3, 2)).sum().backward()     # model[1] is not used
    assert model[0].weight.grad is not None and model[1].weight.grad is None


def test_exit_together_in_a_world_of_one_lets_errors_through(world_of_one):
    with pytest.raises(SystemExit, match="error: x"):
        with dist.exit_together():
            sys.exit("error: x")
    with pytest.raises(KeyError):
        with dist.exit_together():
            raise KeyError("y")


def test_ddp_needs_a_process_group():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="not initialized"):
        dist.all_reduce(minigrad.tensor([1.0]))


def test_bad_arguments_are_named(world_of_one):
    with pytest.raises(ValueError, match="op must be one of"):
        dist.all_reduce(minigrad.tensor([1.0]), op="mean")
    with pytest.raises(TypeError, match="AVG needs a floating-point"):
        dist.all_reduce(minigrad.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="src must be a rank"):
        dist.broadcast(minigrad.tensor([1.0]), src=3)
    with pytest.raises(ValueError, match="list of 1 tensors"):
        dist.all_gather([None, None], minigrad.tensor([1.0]))
    with pytest.raises(TypeError, match="nn.Module"):
        DistributedDataParallel(minigrad.tensor([1.0]))
    with pytest.raises(ValueError, match="backend must be one of"):
        dist.init_process_group("gloo")


def test_without_mpi4py_a_world_of_one_still_works(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)            # import mpi4py -> ImportError
    for name in mpi_transport.LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group("mpi")
    try:
        assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "single")
        t = minigrad.tensor([1.0, 2.0])
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [1.0, 2.0]
    finally:
        dist.destroy_process_group()
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match="one of 4 started by an MPI launcher"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@pytest.mark.gpu
@pytest.mark.parametrize("ranks", [1, 2])
def test_nccl_backend_on_gpus(mpi, tmp_path, ranks):
    if minigrad.backend.cuda_device_count() < ranks:
        pytest.skip(f"NCCL with {ranks} rank(s) needs {ranks} CUDA GPU(s) (NCCL refuses two "
                    f"ranks on one GPU); this machine has {minigrad.backend.cuda_device_count()}")
    result = run_worker(mpi, "nccl", tmp_path, ranks=ranks)
    assert result["all_reduce"] == [sum(range(1, ranks + 1)) * v for v in (1.0, 2.0)]
    assert result["max_difference"] < 1e-9 and result["same_on_all_ranks"]


def test_nccl_needs_a_gpu():
    if minigrad.backend.cuda_available():
        pytest.skip("a GPU is present: the NCCL path is exercised by tests/test_gpu.py runs")
    with pytest.raises(RuntimeError, match="needs CuPy and a CUDA GPU"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


# -- the sampler ---------------------------------------------------------------------------------
def test_sampler_shares_are_disjoint_cover_everything_and_change_per_epoch():
    shares = [dist.DistributedSampler(10, num_replicas=3, rank=r, seed=5) for r in range(3)]
    first = [s.indices() for s in shares]
    assert all(len(f) == 4 for f in first)                      # ceil(10 / 3), padded
    assert set(sum(first, [])) == set(range(10))
    even = [dist.DistributedSampler(12, num_replicas=3, rank=r).indices() for r in range(3)]
    assert sorted(sum(even, [])) == list(range(12))             # disjoint when nothing pads
    again = [s.indices() for s in shares]
    assert again == first                                       # deterministic per epoch
    for s in shares:
        s.set_epoch(1)
    assert [s.indices() for s in shares] != first
    exact = [dist.DistributedSampler(10, num_replicas=3, rank=r, drop_last=True) for r in range(3)]
    flat = sum((s.indices() for s in exact), [])
    assert len(flat) == 9 == len(set(flat))


def test_sampler_rejects_a_rank_outside_the_world():
    with pytest.raises(ValueError, match="rank must be in 0..1"):
        dist.DistributedSampler(10, num_replicas=2, rank=2)


def test_scaling_benchmark_runs(mpi):
    done = launch([sys.executable, os.path.join(ROOT, "bench", "scaling.py"), "--steps", "1",
                   "--warmup", "0", "--batch", "4", "--seq-len", "4", "--hidden", "8",
                   "--layers", "1", "--rounds", "1", "--ranks", "2"], timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("split", "per-rank"))]
    assert [(r[0], r[1]) for r in rows] == [("split", "2"), ("per-rank", "2")]
    assert "ring Allreduce" in launch([sys.executable, os.path.join(ROOT, "bench", "scaling.py"),
                                       "--model"]).stdout
