"""Every bad input raises at the user's call, with the exception type PyTorch would use and a
message that names the argument (and, where it has one, its value). One row per case."""
import re

import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from minigrad import optim

x = minigrad.randn(2, 3)
seq = minigrad.zeros(5, 2, 3)
image = minigrad.zeros(1, 1, 4, 4)
params = lambda: nn.Linear(2, 2).parameters()  # noqa: E731

CASES = [
    # -- making tensors -------------------------------------------------------------------------
    ("zeros negative size", lambda: minigrad.zeros(-1, 2), ValueError, r"size=\(-1, 2\)"),
    ("randn float size", lambda: minigrad.randn(2.5), ValueError, r"size=\(2.5,\)"),
    ("full negative size", lambda: minigrad.full((2, -1), 1.0), ValueError, r"size=\(2, -1\)"),
    ("new_zeros negative", lambda: x.new_zeros(-1), ValueError, r"size=\(-1,\)"),
    ("LongTensor negative", lambda: minigrad.LongTensor(-2), ValueError, r"size=\(-2,\)"),
    ("tensor from a string", lambda: minigrad.tensor("abc"), TypeError, "data of type str"),
    ("ragged nested list", lambda: minigrad.tensor([[1, 2], [3]]), ValueError, "rectangular"),
    ("requires_grad on int", lambda: minigrad.tensor([1, 2], requires_grad=True), RuntimeError,
     "floating point.*int64"),
    ("unknown dtype", lambda: minigrad.zeros(2, dtype="float128"), TypeError, "'float128'"),
    ("unknown device", lambda: minigrad.zeros(2, device="tpu"), ValueError, "'tpu'"),
    ("device of an int", lambda: minigrad.device(3), TypeError, "got int 3"),
    ("arange step 0", lambda: minigrad.arange(0, 5, 0), ValueError, "step=0"),
    ("randint low >= high", lambda: minigrad.randint(5, 2, 3), ValueError, "low=5, high=2"),
    # -- shapes, dims, indices ------------------------------------------------------------------
    ("reshape element count", lambda: x.reshape(4, 2), ValueError, r"\(4, 2\)"),
    ("permute repeated dim", lambda: x.permute(0, 0), ValueError, r"dims \(0, 0\)"),
    ("transpose dim", lambda: x.transpose(0, 5), IndexError, "dim 5"),
    ("sum dim", lambda: x.sum(3), IndexError, "dim 3"),
    ("softmax dim", lambda: x.softmax(4), IndexError, "dim 4"),
    ("unsqueeze dim", lambda: x.unsqueeze(5), IndexError, "dim 5"),
    ("squeeze dim", lambda: x.squeeze(4), IndexError, "dim 4"),
    ("expand to a bad shape", lambda: x.expand(4, 3), ValueError, r"shape \(4, 3\)"),
    ("expand negative size", lambda: x.expand(2, -2), ValueError, "size -2"),
    ("expand -1 in a new dim", lambda: x.expand(-1, 2, 3), ValueError, "size -1.*new leading"),
    ("expand fewer dims", lambda: x.expand(3), ValueError, r"sizes \(3,\)"),
    ("split negative size", lambda: x.split([-1, 4], 1), ValueError, "-1 in split sizes"),
    ("split sizes sum", lambda: x.split([1, 1], 1), ValueError, r"sizes \[1, 1\] add up to 2"),
    ("split size 0", lambda: x.split(0, 1), ValueError, "split_size=0"),
    ("split float size", lambda: x.split(1.5, 1), TypeError, "split_size_or_sections.*1.5"),
    ("chunk 0", lambda: x.chunk(0), ValueError, "chunks.*got 0"),
    ("index out of range", lambda: x[5], IndexError, "index 5"),
    ("setitem out of range", lambda: x.__setitem__(5, 1.0), IndexError, "index 5"),
    ("narrow start", lambda: x.narrow(1, 4, 1), IndexError, "start 4"),
    ("narrow length", lambda: x.narrow(1, 1, 5), ValueError, "length 5"),
    ("topk k too large", lambda: x.topk(5), ValueError, "k=5"),
    ("topk dim", lambda: x.topk(1, dim=3), IndexError, "dim 3"),
    ("sort of a list", lambda: minigrad.sort([3, 1]), TypeError, "input must be a Tensor"),
    ("t of 3-d", lambda: seq.t(), ValueError, r"shape \(5, 2, 3\)"),
    ("copy_ shape", lambda: x.clone().copy_(minigrad.zeros(5)), ValueError, r"source of shape \(5,\)"),
    ("add_ shape", lambda: x.clone().add_(minigrad.zeros(4)), ValueError, r"other of shape \(4,\)"),
    ("clamp without bounds", lambda: x.clamp(), ValueError, "min and max"),
    ("cat of a list item", lambda: minigrad.cat([x, [1, 2, 3]]), TypeError, r"tensors\[1\].*list"),
    ("cat mismatched", lambda: minigrad.cat([x, minigrad.zeros(2, 4)], 0), ValueError, r"tensor 1 .*\(2, 4\)"),
    ("stack mismatched", lambda: minigrad.stack([x, minigrad.zeros(3, 2)]), ValueError, r"tensor 1 .*\(3, 2\)"),
    ("add a string", lambda: x + "a", TypeError, "operand.*str 'a'"),
    ("broadcast shapes", lambda: x + minigrad.zeros(4), ValueError, r"\(2,3\) \(4,\)"),
    ("matmul shapes", lambda: x @ x, ValueError, r"shapes \(2, 3\) and \(2, 3\)"),
    ("matmul dtypes", lambda: x @ minigrad.zeros(3, 2, dtype=minigrad.float64), TypeError,
     "float32 and float64"),
    ("item of many", lambda: x.item(), ValueError, r"shape \(2, 3\)"),
    ("type of an unknown name", lambda: x.type("torch.HalfTensor"), TypeError, "HalfTensor"),
    # -- autograd -------------------------------------------------------------------------------
    ("backward of non-scalar", lambda: minigrad.randn(2, requires_grad=True).exp().backward(),
     RuntimeError, r"shape \(2,\).*gradient="),
    ("backward without grad", lambda: x.sum().backward(), RuntimeError, "does not require grad"),
    ("grad of an unused input", lambda: minigrad.grad(minigrad.ones(2, requires_grad=True).sum(),
                                                      [minigrad.ones(3, requires_grad=True)]),
     RuntimeError, r"input 0 \(shape \(3,\)\).*allow_unused"),
    ("grad of a constant", lambda: minigrad.grad(minigrad.ones(2, requires_grad=True).sum(),
                                                 [minigrad.ones(2)]), RuntimeError,
     "input 0.*does not require grad"),
    # -- module constructors --------------------------------------------------------------------
    ("Linear in_features", lambda: nn.Linear(-1, 3), ValueError, "in_features=-1"),
    ("Linear float size", lambda: nn.Linear(2.5, 3), ValueError, "in_features=2.5"),
    ("Linear int dtype", lambda: nn.Linear(3, 2, dtype=minigrad.int64), TypeError, "dtype=int64"),
    ("Linear device", lambda: nn.Linear(3, 2, device="tpu"), ValueError, "device='tpu'"),
    ("Conv2d stride 0", lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, "stride=0"),
    ("Conv2d negative padding", lambda: nn.Conv2d(1, 2, 3, padding=-1), ValueError, "padding=-1"),
    ("Conv2d kernel 0", lambda: nn.Conv2d(1, 2, 0), ValueError, "kernel_size=0"),
    ("Conv2d in_channels 0", lambda: nn.Conv2d(0, 2, 3), ValueError, "in_channels=0"),
    ("MaxPool2d kernel 0", lambda: nn.MaxPool2d(0), ValueError, "kernel_size=0"),
    ("MaxPool2d stride 0", lambda: nn.MaxPool2d(2, stride=0), ValueError, "stride=0"),
    ("Dropout p > 1", lambda: nn.Dropout(1.5), ValueError, "p=1.5"),
    ("Dropout p a string", lambda: nn.Dropout("0.5"), ValueError, "p='0.5'"),
    ("Embedding size", lambda: nn.Embedding(-3, 2), ValueError, "num_embeddings=-3"),
    ("BatchNorm1d features", lambda: nn.BatchNorm1d(0), ValueError, "num_features=0"),
    ("BatchNorm1d eps", lambda: nn.BatchNorm1d(3, eps=-1), ValueError, "eps=-1"),
    ("LayerNorm shape", lambda: nn.LayerNorm(0), ValueError, "normalized_shape=0"),
    ("LSTM hidden_size", lambda: nn.LSTM(3, 0), ValueError, "hidden_size.*got 0"),
    ("LSTM num_layers", lambda: nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers.*got 0"),
    ("LSTM dropout", lambda: nn.LSTM(3, 4, dropout=2), ValueError, "dropout.*got 2"),
    ("GRU graph", lambda: nn.GRU(3, 4, graph="nodes"), ValueError, "graph.*'nodes'"),
    ("RNN nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     "nonlinearity 'sigmoid'"),
    ("RNN int dtype", lambda: nn.RNN(3, 4, dtype="int64"), TypeError, "dtype=int64"),
    ("GRUCell device", lambda: nn.GRUCell(3, 4, device="gpu"), ValueError, "device='gpu'"),
    ("LogSoftmax in Sequential", lambda: nn.Sequential(nn.Linear(2, 2), F.log_softmax), TypeError,
     "item 1.*function"),
    ("ModuleList of an int", lambda: nn.ModuleList([1]), TypeError, "item 0.*int"),
    ("ModuleDict key", lambda: nn.ModuleDict({"a.b": nn.Tanh()}), TypeError, "'a.b'"),
    ("NLLLoss reduction", lambda: nn.NLLLoss(reduction="x"), ValueError, "reduction.*'x'"),
    # -- module inputs --------------------------------------------------------------------------
    ("Linear on a list", lambda: nn.Linear(3, 2)([1, 2, 3]), TypeError, "input must be a Tensor.*list"),
    ("Linear features", lambda: nn.Linear(3, 2)(minigrad.zeros(2, 4)), ValueError, r"input of shape \(2, 4\)"),
    ("Linear on float64", lambda: nn.Linear(3, 2)(minigrad.zeros(2, 3, dtype=minigrad.float64)),
     TypeError, "input has dtype float64 but the parameters have dtype float32"),
    ("Linear on int64", lambda: nn.Linear(3, 2)(minigrad.zeros(2, 3).long()), TypeError,
     "input has dtype int64 but the parameters have dtype float32"),
    ("Conv2d channels", lambda: nn.Conv2d(1, 2, 3)(minigrad.zeros(1, 2, 5, 5)), ValueError,
     r"input of shape \(1, 2, 5, 5\)"),
    ("Conv2d 3-d input", lambda: nn.Conv2d(1, 2, 3)(minigrad.zeros(1, 5, 5)), ValueError,
     r"input of shape \(N, C, H, W\), got \(1, 5, 5\)"),
    ("Conv2d on float64", lambda: nn.Conv2d(1, 2, 3)(image.double()), TypeError, "float64.*float32"),
    ("max_pool2d stride 0", lambda: F.max_pool2d(image, 2, 0), ValueError, r"stride=\(0, 0\)"),
    ("conv2d stride 0", lambda: F.conv2d(image, minigrad.zeros(1, 1, 2, 2), stride=0), ValueError,
     r"stride=\(0, 0\)"),
    ("Embedding index", lambda: nn.Embedding(3, 2)(minigrad.tensor([5])), IndexError, "index 5"),
    ("Embedding float index", lambda: nn.Embedding(3, 2)(minigrad.tensor([0.5])), TypeError,
     "indices must be integers"),
    ("BatchNorm1d channels", lambda: nn.BatchNorm1d(3)(minigrad.zeros(2, 4)), ValueError,
     r"input of shape \(2, 4\)"),
    ("LSTM input size", lambda: nn.LSTM(3, 4)(minigrad.zeros(5, 2, 4)), ValueError, r"got \(5, 2, 4\)"),
    ("LSTM on int64", lambda: nn.LSTM(3, 4)(seq.long()), TypeError,
     "input has dtype int64.*float32; convert with x.to\\(minigrad.float32\\)"),
    ("LSTM hx not a tuple", lambda: nn.LSTM(3, 4)(seq, minigrad.zeros(1, 2, 4)), TypeError, "hx"),
    ("LSTM h_0 shape", lambda: nn.LSTM(3, 4)(seq, (minigrad.zeros(2, 2, 4), minigrad.zeros(1, 2, 4))),
     ValueError, r"h_0 of shape \(1, 2, 4\)"),
    ("GRU h_0 dtype", lambda: nn.GRU(3, 4)(seq, minigrad.zeros(1, 2, 4, dtype=minigrad.float64)),
     TypeError, "hx has dtype float64"),
    ("RNNCell input", lambda: nn.RNNCell(3, 4)(minigrad.zeros(2, 5)), ValueError, r"got \(2, 5\)"),
    ("GRUCell hx", lambda: nn.GRUCell(3, 4)(minigrad.zeros(2, 3), minigrad.zeros(3, 4)), ValueError,
     r"hx has shape \(3, 4\)"),
    ("cross_entropy float target", lambda: F.cross_entropy(x, minigrad.zeros(2)), TypeError,
     "target.*float32"),
    ("cross_entropy target range", lambda: F.cross_entropy(x, minigrad.tensor([0, 7])), IndexError,
     "target value 7"),
    ("cross_entropy reduction", lambda: F.cross_entropy(x, minigrad.tensor([0, 1]), reduction="avg"),
     ValueError, "reduction.*'avg'"),
    ("nll_loss target shape", lambda: F.nll_loss(x, minigrad.tensor([0, 1, 2])), ValueError,
     r"target of shape \(3,\)"),
    ("nll_loss weight shape", lambda: F.nll_loss(x, minigrad.tensor([0, 1]), weight=minigrad.ones(2)),
     ValueError, r"weight .*shape \(2,\)"),
    ("nll_loss on a list", lambda: F.nll_loss([[0.1]], minigrad.tensor([0])), TypeError,
     "input must be a Tensor"),
    ("mse_loss shapes", lambda: F.mse_loss(x, minigrad.zeros(3)), ValueError, r"target of shape \(3,\)"),
    ("dropout p", lambda: F.dropout(x, -0.1), ValueError, "p must be in"),
    # -- optimizers and state -------------------------------------------------------------------
    ("SGD lr", lambda: optim.SGD(params(), lr=-1), ValueError, "lr=-1"),
    ("Adam betas", lambda: optim.Adam(params(), betas=(1.5, 0.9)), ValueError, r"betas=\(1.5, 0.9\)"),
    ("AdamW weight_decay", lambda: optim.AdamW(params(), weight_decay=-1), ValueError, "weight_decay=-1"),
    ("optimizer without params", lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    ("optimizer of one tensor", lambda: optim.SGD(minigrad.zeros(2, requires_grad=True), lr=0.1),
     TypeError, "params.*single Tensor"),
    ("optimizer of ints", lambda: optim.SGD([1, 2], lr=0.1), TypeError, "got int"),
    ("optimizer bad state key", lambda: optim.SGD(params(), lr=0.1).load_state_dict(
        {"state": {"w": {}}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}), KeyError, "'w'"),
    ("load_state_dict None", lambda: nn.Linear(2, 2).load_state_dict(None), TypeError,
     "state_dict must be a mapping.*NoneType"),
    ("load_state_dict strings", lambda: nn.Linear(1, 1).load_state_dict(
        {"weight": np.zeros((1, 1)), "bias": np.array(["x"])}), TypeError, "'bias' has dtype <U1"),
    ("load_state_dict shape", lambda: nn.Linear(1, 1).load_state_dict(
        {"weight": np.zeros((2, 1)), "bias": np.zeros(1)}), ValueError, r"'weight'.*\(2, 1\)"),
    ("load_state_dict keys", lambda: nn.Linear(1, 1).load_state_dict({"weight": np.zeros((1, 1))}),
     KeyError, "missing keys.*'bias'"),
    ("Module.to a bad device", lambda: nn.Linear(2, 2).to("tpu"), ValueError, "'tpu'"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 60
    assert len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize("name, call, error, names", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(name, call, error, names):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error   # exactly that type, not NumPy's subclass of it
    message = str(info.value)
    assert re.search(names, message), f"{name}: {message!r} does not match {names!r}"


MORE_CASES = [
    ("sum dim a string", lambda: x.sum(dim="a"), TypeError, "dim='a'"),
    ("transpose dim a string", lambda: x.transpose("a", 0), TypeError, "dim='a'"),
    ("view -2", lambda: x.view(-2, 3), ValueError, r"shape \(-2, 3\)"),
    ("view two -1", lambda: x.view(-1, -1), ValueError, r"at most one -1.*\(-1, -1\)"),
    ("expand a string", lambda: x.expand("a"), ValueError, "size 'a'"),
    ("clamp a string", lambda: x.clamp(min="a"), TypeError, "min='a'"),
    ("Adam lr a string", lambda: optim.Adam(params(), lr="a"), TypeError, "lr='a'"),
    ("optimizer of an int tensor", lambda: optim.SGD([minigrad.arange(3)], lr=0.1), TypeError,
     "floating point.*int64"),
    ("SGD group lr a string", lambda: optim.SGD([{"params": list(params()), "lr": "x"}], lr=0.1),
     TypeError, "lr='x'"),
]


@pytest.mark.parametrize("name, call, error, names", MORE_CASES, ids=[c[0] for c in MORE_CASES])
def test_more_bad_input(name, call, error, names):
    test_bad_input_raises_a_clear_error(name, call, error, names)


def test_param_groups_may_carry_names():
    group = {"params": list(params()), "name": "encoder", "lr": 0.5}
    assert optim.SGD([group], lr=0.1).param_groups[0]["name"] == "encoder"
