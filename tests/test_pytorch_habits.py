"""PyTorch habits carry over: the idioms of pytorch/examples' word-language model and the
char-RNN tutorials, rebuilt in a few lines each (the programs themselves are not copied)."""
import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from minigrad import optim
from tests.conftest import randn64

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# -- names PyTorch programs use ------------------------------------------------------------
def test_dtype_aliases_and_typed_constructors():
    assert minigrad.long == minigrad.int64 and minigrad.double == minigrad.float64
    assert minigrad.float == minigrad.float32 and minigrad.int == np.dtype("int32")
    assert minigrad.bool == np.dtype("bool")
    assert minigrad.LongTensor([1, 2]).dtype == minigrad.int64
    assert minigrad.LongTensor(2, 3).shape == (2, 3)
    assert minigrad.FloatTensor([1, 2]).dtype == minigrad.float32
    assert minigrad.tensor([1, 2]).type(minigrad.int64).dtype == minigrad.int64
    assert minigrad.zeros(2).type() == "minigrad.FloatTensor"
    assert minigrad.zeros(2).type("torch.LongTensor").dtype == minigrad.int64


def test_device_object_goes_where_a_device_name_goes():
    dev = minigrad.device("cpu")
    assert dev == "cpu" and dev.type == "cpu" and dev.index is None
    assert minigrad.zeros(2).to(dev).device == "cpu"
    assert nn.Linear(2, 3).to(dev).weight.device == "cpu"
    assert repr(minigrad.device("cuda", 1)) == "device(type='cuda', index=1)"
    with pytest.raises(ValueError, match="tpu"):
        minigrad.device("tpu")


def test_new_tensors_follow_dtype_and_device():
    w = minigrad.zeros(3, dtype=minigrad.float64)
    assert w.new_zeros(2, 4).shape == (2, 4) and w.new_zeros((2, 4)).dtype == minigrad.float64
    assert w.new_ones(3).numpy().tolist() == [1.0, 1.0, 1.0]
    assert w.new_full((2,), 7).numpy().tolist() == [7.0, 7.0]
    assert w.new_tensor([1, 2]).dtype == minigrad.float64


def test_shape_helpers():
    x = minigrad.arange(6).reshape(2, 3)
    assert x.t().shape == (3, 2) and x.contiguous() is x
    assert x.narrow(1, 1, 2).tolist() == [[1, 2], [4, 5]]
    y = minigrad.zeros(3)
    assert y.unsqueeze_(0) is y and y.shape == (1, 3)
    assert y.squeeze_() is y and y.shape == (3,)
    m = minigrad.zeros(2, 5)
    assert m.t_() is m and m.shape == (5, 2)
    with pytest.raises(ValueError, match="length"):
        x.narrow(1, 2, 5)


def test_in_place_methods_on_data():
    x = minigrad.tensor([1.0, -2.0, 3.0])
    x.add_(minigrad.tensor([1.0, 1.0, 1.0]), alpha=2).mul_(2)
    assert x.tolist() == [6.0, 0.0, 10.0]
    x.clamp_(min=1, max=8)
    assert x.tolist() == [6.0, 1.0, 8.0]
    x.fill_(2).div_(4)
    assert x.tolist() == [0.5, 0.5, 0.5]
    minigrad.manual_seed(0)
    x.normal_(10, 0.001)
    assert np.allclose(x.numpy(), 10, atol=0.01)
    x.uniform_(-1, -0.5)
    assert ((x.numpy() >= -1) & (x.numpy() < -0.5)).all()
    with pytest.raises(ValueError, match="shape"):
        x.add_(minigrad.zeros(4))


# -- the manual SGD step of the char-RNN tutorials --------------------------------------------
def test_manual_sgd_through_data_updates_the_parameter():
    model = nn.Linear(3, 2)
    before = model.weight.numpy().copy()
    F.mse_loss(model(minigrad.ones(4, 3)), minigrad.zeros(4, 2)).backward()
    for p in model.parameters():
        p.data.add_(p.grad.data, alpha=-0.1)
    assert np.allclose(model.weight.numpy(), before - 0.1 * model.weight.grad.numpy())
    model.bias.data.add_(-0.5, model.bias.grad.data)  # the pre-1.5 argument order


def test_accumulated_loss_starting_from_a_plain_tensor_records():
    """``loss = torch.Tensor([0]); loss += criterion(...)`` then ``loss.backward()``."""
    lin, criterion = nn.Linear(4, 5), nn.NLLLoss()
    logsoftmax = nn.LogSoftmax(dim=1)
    loss = minigrad.tensor([0.0])
    target = minigrad.LongTensor([1, 4, 0])
    target.unsqueeze_(-1)
    for i in range(3):
        loss += criterion(logsoftmax(lin(minigrad.ones(1, 4) * i)), target[i])
    loss.backward()
    assert lin.weight.grad is not None and loss.shape == (1,)


def test_confusion_matrix_cells_add_in_place():
    confusion = minigrad.zeros(3, 3)
    confusion[1][2] += 1
    confusion[1][2] += 1
    confusion[0] = confusion[0] + 5
    assert confusion.tolist() == [[5, 5, 5], [0, 0, 2], [0, 0, 0]]


def test_init_hidden_with_new_zeros_and_type_conversion():
    model = nn.LSTM(3, 4, 2)
    weight = next(model.parameters())
    hidden = (weight.new_zeros(2, 5, 4), weight.new_zeros(2, 5, 4))
    ids = minigrad.tensor([[1, 2, 3]]).type(minigrad.int64)
    emb = nn.Embedding(5, 3)(ids.t().expand(3, 5))
    out, (h, c) = model(emb, hidden)
    assert out.shape == (3, 5, 4) and h.shape == (2, 5, 4)


def test_log_softmax_without_dim_uses_pytorchs_implicit_dim():
    x = minigrad.randn(2, 5)
    assert np.allclose(nn.LogSoftmax()(x).numpy(), F.log_softmax(x, 1).numpy())


# -- new ops: gradients in float64, values against PyTorch ------------------------------------
@pytest.mark.parametrize("fn", [
    lambda a: a.sort(1)[0] * minigrad.arange(5, dtype=minigrad.float64),
    lambda a: a.sort(0, descending=True).values.exp(),
    lambda a: a.topk(2, dim=1)[0] ** 2,
    lambda a: a.topk(3, dim=0, largest=False)[0].tanh(),
    lambda a: F.nll_loss(F.log_softmax(a, 1), minigrad.tensor([0, 4, 2])),
    lambda a: F.nll_loss(a, minigrad.tensor([1, 1, 3]), reduction="sum"),
    lambda a: a.narrow(1, 1, 3) * 2,
    lambda a: a.t().clone() * a.t(),
])
def test_new_ops_gradcheck(fn):
    assert minigrad.gradcheck(fn, [randn64(3, 5)])


def test_topk_second_derivative():
    x = randn64(4, 6)
    g, = minigrad.grad((x.topk(3, 1)[0] ** 3).sum(), [x], create_graph=True)
    gg, = minigrad.grad(g.sum(), [x])
    top = np.zeros((4, 6))
    np.put_along_axis(top, np.argsort(-x.numpy(), 1)[:, :3], 1, axis=1)
    assert np.allclose(gg.numpy(), 6 * x.numpy() * top)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda m, a: m.sort(a, 1)[0], lambda m, a: m.sort(a, 0, descending=True)[1],
    lambda m, a: m.argsort(a, 1), lambda m, a: m.topk(a, 2, 1)[0], lambda m, a: m.topk(a, 2, 1)[1],
    lambda m, a: m.topk(a, 1, 0, largest=False)[1], lambda m, a: m.argmin(a, 1),
    lambda m, a: m.argmax(a, 0), lambda m, a: m.narrow(a, 1, 2, 2), lambda m, a: a.t(),
])
def test_ordering_ops_match_torch(call):
    a = np.random.default_rng(3).standard_normal((4, 5))
    expected = call(torch, torch.tensor(a)).numpy()
    assert np.array_equal(call(minigrad, minigrad.tensor(a)).numpy(), expected)


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                    {"ignore_index": 2}, {"weight": [1.0, 2.0, 0.5, 3.0]}])
def test_nll_loss_matches_torch(kwargs):
    a = np.random.default_rng(4).standard_normal((6, 4))
    t = np.array([0, 2, 3, 1, 2, 0])
    tw = {k: (torch.tensor(v, dtype=torch.float64) if k == "weight" else v) for k, v in kwargs.items()}
    mw = {k: (minigrad.tensor(v, dtype=minigrad.float64) if k == "weight" else v)
          for k, v in kwargs.items()}
    tx, mx = torch.tensor(a, requires_grad=True), minigrad.tensor(a, requires_grad=True)
    ty = torch.nn.NLLLoss(**tw)(torch.log_softmax(tx, 1), torch.tensor(t))
    my = nn.NLLLoss(**mw)(F.log_softmax(mx, 1), minigrad.tensor(t))
    assert np.allclose(my.numpy(), ty.detach().numpy(), atol=1e-12)
    ty.sum().backward()
    my.sum().backward()
    assert np.allclose(mx.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@needs_torch
def test_adamw_matches_torch():
    w0 = np.random.default_rng(5).standard_normal((3, 4))
    tw = torch.tensor(w0, requires_grad=True)
    mw = minigrad.tensor(w0, requires_grad=True)
    topt = torch.optim.AdamW([tw], lr=0.05, weight_decay=0.1)
    mopt = optim.AdamW([mw], lr=0.05, weight_decay=0.1)
    for step in range(5):
        for w, opt in ((tw, topt), (mw, mopt)):
            opt.zero_grad()
            ((w * w).sum() + w.sum() * step).backward()
            opt.step()
    assert np.allclose(mw.numpy(), tw.detach().numpy(), atol=1e-12)


# -- the word-language-model's patterns (batchify, tied weights, clipping, manual SGD) ---------
class TinyWordModel(nn.Module):
    def __init__(self, ntoken, size, rnn_type):
        super().__init__()
        self.drop, self.encoder = nn.Dropout(0.2), nn.Embedding(ntoken, size)
        self.rnn = getattr(nn, rnn_type)(size, size, 2, dropout=0.2)
        self.decoder = nn.Linear(size, ntoken)
        self.decoder.weight = self.encoder.weight            # tied weights
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        self.rnn_type, self.size, self.ntoken = rnn_type, size, ntoken

    def forward(self, x, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        zeros = weight.new_zeros(2, bsz, self.size)
        return (zeros, weight.new_zeros(2, bsz, self.size)) if self.rnn_type == "LSTM" else zeros


def repackage(h):
    return h.detach() if isinstance(h, minigrad.Tensor) else tuple(repackage(v) for v in h)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN"])
def test_word_language_model_patterns_train(rnn_type):
    ids = minigrad.cat([minigrad.tensor([i % 7, (i * 3) % 7, 1]).type(minigrad.int64)
                        for i in range(40)])
    nbatch = ids.size(0) // 4
    data = ids.narrow(0, 0, nbatch * 4).view(4, -1).t().contiguous()    # batchify
    model, criterion = TinyWordModel(7, 8, rnn_type), nn.NLLLoss()
    assert model.decoder.weight is model.encoder.weight
    hidden, losses = model.init_hidden(4), []
    for epoch in range(3):
        model.train()
        for i in range(0, data.size(0) - 1, 5):
            seq_len = min(5, len(data) - 1 - i)
            x, target = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].view(-1)
            model.zero_grad()
            hidden = repackage(hidden)
            output, hidden = model(x, hidden)
            loss = criterion(output, target)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-5.0)
            losses.append(loss.item())
    model.eval()
    model.rnn.flatten_parameters()
    with minigrad.no_grad():
        output, _ = model(data[:5], model.init_hidden(4))
    assert output.shape == (20, 7) and np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


def test_tensor_class_makes_float32_as_torch_tensor_and_tensor_infers():
    assert minigrad.Tensor([0]).dtype == minigrad.float32        # torch.Tensor([0])
    assert minigrad.tensor([0]).dtype == minigrad.int64          # torch.tensor([0])
    assert minigrad.Tensor(np.arange(3)).dtype == minigrad.int64  # an array keeps its dtype
