"""Variable-length batches (``nn.utils.rnn``): packing keeps only each sequence's real steps,
the recurrent layers run on packed batches as PyTorch's do (outputs, each sequence's own
last state, every gradient), and the padding receives no gradient."""
import re

import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                          pad_packed_sequence, pad_sequence)

try:
    import torch
    import torch.nn.utils.rnn as trnn
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

LENGTHS = [2, 4, 1, 4]          # unsorted, with a tie


def padded(T=4, B=4, F_=3, seed=0):
    return np.random.default_rng(seed).standard_normal((T, B, F_))


def test_packing_keeps_the_real_steps_time_step_by_time_step_longest_first():
    x = minigrad.tensor(np.arange(12.0).reshape(3, 4, 1))      # x[t, b] = 4 t + b
    packed = pack_padded_sequence(x, [3, 2, 2, 1])
    assert isinstance(packed, PackedSequence) and packed.sorted_indices is None
    assert packed.batch_sizes.tolist() == [4, 3, 1]
    assert packed.data.numpy().ravel().tolist() == [0, 1, 2, 3, 4, 5, 6, 8]
    assert packed[0] is packed.data                                # a named tuple, as PyTorch's


def test_unpacking_gives_back_the_padded_batch_in_its_own_order():
    x = minigrad.tensor(padded())
    packed = pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    back, lengths = pad_packed_sequence(packed, padding_value=-7.0, total_length=5)
    assert lengths.tolist() == LENGTHS and back.shape == (5, 4, 3)
    for b, n in enumerate(LENGTHS):
        np.testing.assert_array_equal(back.numpy()[:n, b], x.numpy()[:n, b])
        assert np.all(back.numpy()[n:, b] == -7.0)


def test_batch_first_pad_and_pack_sequence_agree():
    seqs = [minigrad.tensor(np.full((n, 2), float(n))) for n in (3, 1, 2)]
    batch = pad_sequence(seqs, batch_first=True)
    assert batch.shape == (3, 3, 2) and batch.numpy()[1, 1:].tolist() == [[0, 0], [0, 0]]
    a = pack_padded_sequence(batch, [3, 1, 2], batch_first=True, enforce_sorted=False)
    b = pack_sequence(seqs, enforce_sorted=False)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    assert a.batch_sizes.tolist() == b.batch_sizes.tolist() == [3, 2, 1]


def test_gradients_reach_the_real_steps_and_not_the_padding():
    x = minigrad.tensor(padded(), requires_grad=True)
    pack_padded_sequence(x, LENGTHS, enforce_sorted=False).data.sum().backward()
    mask = np.arange(4)[:, None] < np.array(LENGTHS)[None, :]
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(mask[..., None], x.shape) * 1.0)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_packing_matches_pytorch(batch_first):
    a = padded()
    if batch_first:
        a = a.transpose(1, 0, 2).copy()
    ours = pack_padded_sequence(minigrad.tensor(a), LENGTHS, batch_first, enforce_sorted=False)
    theirs = trnn.pack_padded_sequence(torch.tensor(a), LENGTHS, batch_first, enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert ours.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    assert ours.unsorted_indices.tolist() == theirs.unsorted_indices.tolist()


@needs_torch
@pytest.mark.parametrize("kind, graph, layers", [
    ("LSTM", "steps", 1), ("LSTM", "layer", 2), ("LSTM", "gates", 1),
    ("GRU", "steps", 2), ("RNN", "steps", 1), ("RNN", "layer", 1),
    ("LSTM-bi", "steps", 2), ("GRU-bi", "layer", 1), ("RNN-bi", "gates", 1),
])
def test_recurrent_layers_on_packed_batches_match_pytorch(kind, graph, layers):
    kind, bidirectional = kind.split("-")[0], kind.endswith("-bi")
    ours = getattr(nn, kind)(3, 5, num_layers=layers, batch_first=True, graph=graph,
                             bidirectional=bidirectional).double()
    theirs = getattr(torch.nn, kind)(3, 5, num_layers=layers, batch_first=True,
                                     bidirectional=bidirectional).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a = padded(seed=1).transpose(1, 0, 2).copy()                        # (B, T, F)
    h0 = np.random.default_rng(2).standard_normal((layers * (2 if bidirectional else 1), 4, 5))
    state = (h0, h0 * 0.5) if kind == "LSTM" else h0

    def run(lib, layer, wrap, pack):
        x = wrap(a)
        hx = tuple(wrap(s) for s in state) if kind == "LSTM" else wrap(state)
        out, h_n = layer(pack(x, LENGTHS, batch_first=True, enforce_sorted=False), hx)
        h_n = h_n if kind == "LSTM" else (h_n,)
        loss = (out.data ** 2).sum() + sum((h * h).sum() * (i + 2) for i, h in enumerate(h_n))
        loss.backward()
        return out, h_n, x
    t_out, t_h, tx = run(torch, theirs, lambda v: torch.tensor(v, requires_grad=True),
                         trnn.pack_padded_sequence)
    m_out, m_h, mx = run(minigrad, ours, lambda v: minigrad.tensor(v, requires_grad=True),
                         pack_padded_sequence)
    np.testing.assert_allclose(m_out.data.numpy(), t_out.data.detach().numpy(), atol=1e-12)
    for mine, ref in zip(m_h, t_h):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), atol=1e-11,
                                   err_msg=name)


def test_a_packed_batch_gives_each_sequence_the_state_it_would_have_alone():
    minigrad.manual_seed(0)
    gru = nn.GRU(3, 4)
    a = padded()
    _, h_n = gru(pack_padded_sequence(minigrad.tensor(a, dtype=minigrad.float32), LENGTHS,
                                      enforce_sorted=False))
    for b, n in enumerate(LENGTHS):
        _, alone = gru(minigrad.tensor(a[:n, b:b + 1], dtype=minigrad.float32))
        np.testing.assert_allclose(h_n.numpy()[0, b], alone.numpy()[0, 0], rtol=1e-5, atol=1e-6)


def test_a_captioning_decoder_trains_on_packed_captions():
    # the usual CNN + LSTM captioning step: image feature as the first input, then the words
    minigrad.manual_seed(1)
    embed, lstm, head = nn.Embedding(10, 6), nn.LSTM(6, 8, batch_first=True), nn.Linear(8, 10)
    params = list(embed.parameters()) + list(lstm.parameters()) + list(head.parameters())
    opt = minigrad.optim.Adam(params, lr=0.05)
    captions = minigrad.tensor([[1, 4, 5, 2], [1, 7, 2, 0], [1, 2, 0, 0]])     # 0 pads
    lengths = [4, 3, 2]
    features = minigrad.randn(3, 1, 6)
    losses = []
    for _ in range(30):
        inputs = minigrad.cat([features, embed(captions)[:, :-1]], 1)
        hiddens, _ = lstm(pack_padded_sequence(inputs, lengths, batch_first=True))
        targets = pack_padded_sequence(captions, lengths, batch_first=True)[0]
        loss = F.cross_entropy(head(hiddens[0]), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


@pytest.mark.parametrize("lengths, kwargs, message", [
    ([2, 4, 1, 4], {}, "lengths must be in decreasing order when enforce_sorted=True, got [2, 4, 1, 4]"),
    ([4, 4, 2], {}, "got 3 lengths for a batch of 4 sequences"),
    ([5, 4, 2, 1], {}, "every length must be in 1..4 (the padded length), got 5"),
    ([4, 3, 0, 0], {}, "every length must be in 1..4 (the padded length), got 0"),
])
def test_bad_lengths_are_named(lengths, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(f"pack_padded_sequence: {message}")):
        pack_padded_sequence(minigrad.tensor(padded()), lengths, **kwargs)


