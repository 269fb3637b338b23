"""The char_lm model trains like PyTorch's: the same initial weights (copied from a PyTorch
model), the same batches, the same truncated-BPTT loop (carried, detached state; Adam;
gradient clipping) -> the same loss at every one of 50 steps (relative difference < 1e-3)."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples")))
from char_lm.data import Streams, Vocab, load_text, split  # noqa: E402
from char_lm.model import CharRNN  # noqa: E402

STEPS, T, B, H, EMB, LAYERS, LR, CLIP = 50, 16, 8, 32, 16, 2, 2e-3, 1.0


class TorchCharRNN(torch.nn.Module):
    def __init__(self, vocab_size, cell):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, EMB)
        self.rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
            EMB, H, LAYERS)
        self.head = torch.nn.Linear(H, vocab_size)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


def torch_losses(model, batches):
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    state, losses = None, []
    for x, y in batches:
        logits, state = model(torch.from_numpy(x), state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(T * B, -1),
                                                 torch.from_numpy(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        losses.append(loss.item())
    return np.array(losses)


def minigrad_losses(model, batches):
    opt = minigrad.optim.Adam(model.parameters(), lr=LR)
    state, losses = None, []
    for x, y in batches:
        logits, state = model(minigrad.tensor(x), state)
        loss = F.cross_entropy(logits.reshape(T * B, logits.shape[2]),
                               minigrad.tensor(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        state = nn.detach_state(state)
        losses.append(loss.item())
    return np.array(losses)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny matrices: PyTorch's thread pool only adds waiting (10x on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_training_losses_track_pytorch_step_by_step(cell):
    text = load_text()[:40_000]
    vocab = Vocab(text)
    train, _ = split(vocab.encode(text))
    streams = Streams(train, B, T)
    batches = [streams.next()[:2] for _ in range(STEPS)]

    torch.manual_seed(0)
    reference = TorchCharRNN(len(vocab), cell)
    model = CharRNN(len(vocab), cell, H, LAYERS, EMB)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})

    expected = torch_losses(reference, batches)
    got = minigrad_losses(model, batches)
    assert expected[-1] < expected[0] - 0.5                 # it does learn in 50 steps
    rel = np.abs(got - expected) / np.abs(expected)
    assert rel.max() < 1e-3, f"step {rel.argmax()}: minigrad {got[rel.argmax()]}, torch {expected[rel.argmax()]}"
