"""The programs tests/test_distributed.py runs under ``mpiexec -n N`` (one scenario each).

    mpiexec -n 2 python tests/distributed_worker.py SCENARIO OUT.json

Rank 0 writes what it measured to OUT.json; the test reads it and asserts. Each scenario
is a few lines of ordinary data-parallel training, so this file doubles as an example.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import minigrad  # noqa: E402
import minigrad.distributed as dist  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.parallel import DistributedDataParallel  # noqa: E402

T, B, D, H = 5, 8, 3, 6       # steps, global batch, inputs, hidden units


class Net(nn.Module):
    """A small recurrent model: an LSTM over (T, B, D), then a linear head on every step."""

    def __init__(self, hidden=H):
        super().__init__()
        self.lstm = nn.LSTM(D, hidden)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def batches(n):
    """The same n global batches on every rank (a shared seed): (x (T,B,D), y (T,B,2))."""
    rng = np.random.default_rng(7)
    return [(rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2))) for _ in range(n)]


def share(array, rank, size):
    """This rank's columns of a time-first batch."""
    per = array.shape[1] // size
    return array[:, rank * per:(rank + 1) * per]


def loss_of(model, x, y):
    device = next(iter(model.parameters())).device
    return F.mse_loss(model(minigrad.tensor(x, device=device)), minigrad.tensor(y, device=device))


def train(model, data, rank, size, scale=1.0):
    """3 SGD (momentum) steps, then 3 Adam steps, each on this rank's share of a batch."""
    sgd = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adam = minigrad.optim.Adam(model.parameters(), lr=0.01)
    for step, (x, y) in enumerate(data):
        optimizer = sgd if step < 3 else adam
        optimizer.zero_grad()
        loss_of(model, share(x, rank, size), share(y, rank, size)).backward()
        optimizer.step()


def flat_parameters(model):
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


def same_on_all_ranks(vector):
    gathered = [None] * dist.get_world_size()
    dist.all_gather(gathered, minigrad.tensor(vector))
    return all(np.array_equal(g.numpy(), gathered[0].numpy()) for g in gathered)


def scenario_equivalence(rank, size):
    minigrad.manual_seed(100 + rank)              # different weights per rank: DDP broadcasts
    model = Net().double()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0005)   # ~500 B: several buckets
    data = batches(6)
    train(ddp, data, rank, size)
    norm = nn.BatchNorm1d(3)                       # buffers (running statistics) too
    norm.running_mean.array[...] = rank + 1.0
    DistributedDataParallel(norm)
    result = {"same_on_all_ranks": same_on_all_ranks(flat_parameters(model)),
              "buffers_from_rank_0": norm.running_mean.tolist() == [1.0, 1.0, 1.0],
              "buckets": len(ddp.bucket_sizes),
              "allreduces_last_backward": ddp.reducer.allreduces_last_backward,
              "parameters": len(list(model.parameters()))}
    if rank == 0:                                  # one process, whole batches, rank 0's init
        minigrad.manual_seed(100)
        reference = Net().double()
        train(reference, data, 0, 1)
        result["max_difference"] = float(np.abs(flat_parameters(model)
                                                - flat_parameters(reference)).max())
    return result


def scenario_no_sync(rank, size):
    """Two micro-batches per rank, the first under no_sync(): one averaged step."""
    minigrad.manual_seed(100 + rank)
    model = Net().double()
    ddp = DistributedDataParallel(model)
    (x, y), = batches(1)
    x, y = share(x, rank, size), share(y, rank, size)
    half = x.shape[1] // 2
    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.5)
    optimizer.zero_grad()
    with ddp.no_sync():
        (loss_of(ddp, x[:, :half], y[:, :half]) / 2).backward()
    local_after_no_sync = not same_on_all_ranks(model.lstm.weight_hh_l0.grad.numpy().ravel())
    (loss_of(ddp, x[:, half:], y[:, half:]) / 2).backward()
    optimizer.step()
    result = {"grads_local_inside_no_sync": local_after_no_sync,
              "same_on_all_ranks": same_on_all_ranks(flat_parameters(model))}
    if rank == 0:                                  # one big step on the whole global batch
        minigrad.manual_seed(100)
        reference = Net().double()
        (xg, yg), = batches(1)
        opt = minigrad.optim.SGD(reference.parameters(), lr=0.5)
        opt.zero_grad()
        loss_of(reference, xg, yg).backward()
        opt.step()
        result["max_difference"] = float(np.abs(flat_parameters(model)
                                                - flat_parameters(reference)).max())
    return result


def scenario_mismatch(rank, size):
    """Rank 1 builds a wider LSTM: every rank must refuse, naming the parameter."""
    model = Net(hidden=H if rank == 0 else H + 1).double()
    try:
        DistributedDataParallel(model)
    except ValueError as error:
        message = str(error)
    else:
        message = ""
    messages = [None] * size
    codes = minigrad.tensor([ord(c) for c in message.ljust(400)[:400]])
    dist.all_gather(messages, codes)
    return {"messages": ["".join(chr(int(c)) for c in m.numpy()).rstrip() for m in messages]}


def scenario_raise(rank, size):
    """Rank 1 raises while rank 0 waits in a collective: mpiexec must end, non-zero."""
    if rank == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.all_reduce(minigrad.tensor([1.0]))
    return {"finished": True}


def scenario_exit(rank, size):
    """Rank 1 calls sys.exit("error: ...") inside exit_together(), rank 0 waits."""
    with dist.exit_together():
        if rank == 1:
            sys.exit("error: rank 1 exits on purpose")
        dist.barrier()
    return {"finished": True}


def scenario_single(rank, size):
    """Started without mpiexec: a world of one that trains as a plain model."""
    minigrad.manual_seed(100)
    model = Net().double()
    ddp = DistributedDataParallel(model)
    data = batches(4)
    train(ddp, data, 0, 1)
    minigrad.manual_seed(100)
    reference = Net().double()
    train(reference, data, 0, 1)
    t = minigrad.tensor([2.0, 3.0])
    dist.all_reduce(t)
    return {"size": size, "rank": rank, "all_reduce": t.tolist(), "backend": dist.get_backend(),
            "max_difference": float(np.abs(flat_parameters(model) - flat_parameters(reference)).max())}


def scenario_nccl(rank, size):
    """GPU arrays through NCCL: collectives and the equivalence run on "cuda"."""
    t = minigrad.tensor([1.0, 2.0], device="cuda") * (rank + 1)
    dist.all_reduce(t)
    minigrad.manual_seed(100 + rank)
    model = Net().double().to("cuda")
    ddp = DistributedDataParallel(model)
    data = batches(6)
    train(ddp, data, rank, size)
    result = {"all_reduce": t.tolist(), "same_on_all_ranks": same_on_all_ranks(
        flat_parameters(model))}
    if rank == 0:
        minigrad.manual_seed(100)
        reference = Net().double().to("cuda")
        train(reference, data, 0, 1)
        result["max_difference"] = float(np.abs(flat_parameters(model)
                                                - flat_parameters(reference)).max())
    return result


def main():
    scenario, out = sys.argv[1], sys.argv[2]
    dist.init_process_group("nccl" if scenario == "nccl" else "mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    result = globals()[f"scenario_{scenario}"](rank, size)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(result, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
