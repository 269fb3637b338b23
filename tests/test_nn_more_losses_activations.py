"""Binary cross-entropy (on probabilities and on logits), LeakyReLU, GELU, Identity and the
parameter containers (ParameterList, ParameterDict), specified by what they must do:

* values and gradients equal PyTorch's in float64 (any difference is a bug, not rounding);
* gradients equal finite differences (``minigrad.gradcheck``);
* the stable forms stay finite where a naive formula overflows;
* bad arguments raise an error that names the argument, the value and what was expected;
* the same results on the checked stand-in GPU as on the CPU.
"""
import math

import numpy as np
import pytest

import minigrad
import nn
from nn import functional as F
from minigrad.testing.checked_backend import checked_device
from conftest import randn64

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

TOL = dict(rtol=1e-12, atol=1e-12)
F64 = minigrad.float64


def host(shape, seed, kind="normal"):
    """Host float64 values: 'normal', 'prob' (strictly inside (0, 1)) or 'positive'."""
    rng = np.random.default_rng(seed)
    if kind == "prob":
        return rng.uniform(0.02, 0.98, shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    return rng.standard_normal(shape)


def both(arrays, grad):
    """The same float64 values as minigrad and torch tensors; ``grad[i]``: requires grad."""
    ours = [None if a is None else minigrad.tensor(a, dtype=F64, requires_grad=g)
            for a, g in zip(arrays, grad)]
    theirs = [None if a is None else torch.tensor(a, dtype=torch.float64, requires_grad=g)
              for a, g in zip(arrays, grad)]
    return ours, theirs


def assert_same_as_torch(our_fn, their_fn, arrays, grad):
    """Outputs equal, and the gradients of Σ R·output equal for every input needing one."""
    ours, theirs = both(arrays, grad)
    mine, reference = our_fn(*ours), their_fn(*theirs)
    assert tuple(mine.shape) == tuple(reference.shape)
    np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), **TOL)
    r = host(tuple(reference.shape), 99)
    (mine * minigrad.tensor(r, dtype=F64)).sum().backward()
    (reference * torch.tensor(r)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if grad[i]:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {i}",
                                       **TOL)


WEIGHT_SHAPES = [None, (4, 3), (3,), (4, 1)]


# ---------------------------------------------------------------------------
# binary_cross_entropy / nn.BCELoss
# ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", WEIGHT_SHAPES)
def test_binary_cross_entropy_values_and_gradients_equal_torch(reduction, weight_shape):
    weight = None if weight_shape is None else host(weight_shape, 3, "positive")
    arrays = [host((4, 3), 1, "prob"), host((4, 3), 2, "prob"), weight]
    assert_same_as_torch(
        lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction),
        lambda x, y, w: torch.nn.functional.binary_cross_entropy(x, y, w, reduction=reduction),
        arrays, grad=[True, True, False])


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", [None, (3,)])
def test_bce_loss_module_equals_torch_module(reduction, weight_shape):
    weight = None if weight_shape is None else host(weight_shape, 3, "positive")
    ours = nn.BCELoss(None if weight is None else minigrad.tensor(weight), reduction=reduction)
    theirs = torch.nn.BCELoss(None if weight is None else torch.tensor(weight),
                              reduction=reduction)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same_as_torch(ours, theirs, [host((5, 3), 1, "prob"), host((5, 3), 2, "prob")],
                         grad=[True, True])


@needs_torch
def test_binary_cross_entropy_clamps_each_log_at_minus_100_like_torch():
    x = np.array([0.0, 1.0, 1e-50, 1.0 - 1e-12, 0.5])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.25])
    ours, theirs = both([x, y], [True, False])
    loss = F.binary_cross_entropy(*ours, reduction="none")
    reference = torch.nn.functional.binary_cross_entropy(*theirs, reduction="none")
    np.testing.assert_allclose(loss.numpy(), reference.detach().numpy(), **TOL)
    assert loss.numpy()[:3].tolist() == [100.0, 100.0, 100.0]


def test_binary_cross_entropy_gradient_is_finite_at_probabilities_0_and_1():
    """Where a log term is clamped its gradient is 0 (the clamped formula is flat there;
    PyTorch's own backward returns (x − y)/1e-12 instead); it is never inf or NaN."""
    x = minigrad.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64, requires_grad=True)
    y = minigrad.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64)
    F.binary_cross_entropy(x, y, reduction="sum").backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all()
    assert g[:2].tolist() == [0.0, 0.0]
    assert g[2:].tolist() == [1.0, -1.0]          # the unclamped terms: (x − y)/(x(1 − x)) limits


def test_binary_cross_entropy_mean_averages_the_weighted_losses_over_every_element():
    x = minigrad.tensor([[0.5, 0.25]], dtype=F64)
    y = minigrad.tensor([[1.0, 0.0]], dtype=F64)
    w = minigrad.tensor([2.0, 4.0], dtype=F64)
    expected = (2.0 * -math.log(0.5) + 4.0 * -math.log(0.75)) / 2
    assert F.binary_cross_entropy(x, y, w).item() == pytest.approx(expected, rel=1e-14)


def test_binary_cross_entropy_gradcheck_in_input_target_and_weight():
    x = minigrad.tensor(host((3, 4), 1, "prob"), dtype=F64, requires_grad=True)
    y = minigrad.tensor(host((3, 4), 2, "prob"), dtype=F64, requires_grad=True)
    w = minigrad.tensor(host((4,), 3, "positive"), dtype=F64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        assert minigrad.gradcheck(lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction),
                                  [x, y, w])


# ---------------------------------------------------------------------------
# binary_cross_entropy_with_logits / nn.BCEWithLogitsLoss
# ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", WEIGHT_SHAPES)
@pytest.mark.parametrize("pos_weight_shape", [None, (3,), (4, 3)])
def test_bce_with_logits_values_and_gradients_equal_torch(reduction, weight_shape,
                                                          pos_weight_shape):
    weight = None if weight_shape is None else host(weight_shape, 3, "positive")
    pos_weight = None if pos_weight_shape is None else host(pos_weight_shape, 4, "positive")
    arrays = [3 * host((4, 3), 1), host((4, 3), 2, "prob"), weight, pos_weight]
    assert_same_as_torch(
        lambda x, y, w, p: F.binary_cross_entropy_with_logits(x, y, w, reduction, p),
        lambda x, y, w, p: torch.nn.functional.binary_cross_entropy_with_logits(
            x, y, w, reduction=reduction, pos_weight=p),
        arrays, grad=[True, True, False, False])


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_module_equals_torch_module_and_keeps_weights_as_buffers(reduction):
    weight, pos_weight = host((3,), 3, "positive"), host((3,), 4, "positive")
    ours = nn.BCEWithLogitsLoss(minigrad.tensor(weight), reduction,
                                pos_weight=minigrad.tensor(pos_weight))
    theirs = torch.nn.BCEWithLogitsLoss(torch.tensor(weight), reduction=reduction,
                                        pos_weight=torch.tensor(pos_weight))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    assert list(ours.parameters()) == []
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    assert_same_as_torch(ours, theirs, [host((5, 3), 1), host((5, 3), 2, "prob")],
                         grad=[True, True])


@needs_torch
def test_bce_with_logits_stays_finite_and_exact_for_logits_of_plus_minus_1000():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    ours, theirs = both([x, y, np.array([2.0])], [True, False, False])
    for pos_weight in (None, ours[2]):
        x_ = minigrad.tensor(x, dtype=F64, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(x_, ours[1], reduction="none",
                                                  pos_weight=pos_weight)
        loss.sum().backward()
        p = 1.0 if pos_weight is None else 2.0
        np.testing.assert_allclose(loss.numpy(), [0, 0, 1000, 1000 * p, p * math.log(2)],
                                   rtol=1e-15)
        np.testing.assert_allclose(x_.grad.numpy(), [0, 0, 1, -p, -p / 2], rtol=1e-15)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        theirs[0], theirs[1], reduction="none", pos_weight=theirs[2])
    np.testing.assert_allclose(loss.numpy(), reference.detach().numpy(), **TOL)


def test_bce_with_logits_gradient_at_a_zero_logit_is_sigmoid_0_minus_target():
    """softplus's two kinks at 0 (max and |x|) take the same one-sided slope, so they cancel:
    a zero-initialised classifier head gets the right first gradient, σ(0) − y = ½ − y."""
    x = minigrad.zeros(4, dtype=F64, requires_grad=True)
    y = minigrad.tensor([0.0, 1.0, 0.25, 1.0], dtype=F64)
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.5 - y.numpy(), rtol=1e-15)


def test_bce_with_logits_equals_bce_of_the_sigmoid():
    x, y = randn64(3, 4), minigrad.tensor(host((3, 4), 2, "prob"), dtype=F64)
    w = minigrad.tensor(host((4,), 3, "positive"), dtype=F64)
    a = F.binary_cross_entropy_with_logits(x, y, w, "none")
    b = F.binary_cross_entropy(x.sigmoid(), y, w, "none")
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_bce_with_logits_pos_weight_multiplies_only_the_positive_term():
    x = minigrad.tensor([[0.3, -1.2]], dtype=F64)
    ones = minigrad.ones(1, 2, dtype=F64)
    plain = F.binary_cross_entropy_with_logits(x, ones, reduction="none")
    weighted = F.binary_cross_entropy_with_logits(
        x, ones, reduction="none", pos_weight=minigrad.tensor([3.0, 5.0], dtype=F64))
    np.testing.assert_allclose(weighted.numpy(), plain.numpy() * [3.0, 5.0], rtol=1e-14)
    zeros = minigrad.zeros(1, 2, dtype=F64)
    assert F.binary_cross_entropy_with_logits(x, zeros, pos_weight=minigrad.tensor(
        [3.0, 5.0], dtype=F64)).item() == F.binary_cross_entropy_with_logits(x, zeros).item()


def test_bce_with_logits_gradcheck_in_input_target_weight_and_pos_weight():
    x = randn64(3, 4)
    y = minigrad.tensor(host((3, 4), 2, "prob"), dtype=F64, requires_grad=True)
    w = minigrad.tensor(host((3, 1), 3, "positive"), dtype=F64, requires_grad=True)
    p = minigrad.tensor(host((4,), 4, "positive"), dtype=F64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        assert minigrad.gradcheck(
            lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction, d),
            [x, y, w, p])


def test_bce_with_logits_promotes_a_float64_target_as_torch_does():
    x = minigrad.zeros(2, 3, requires_grad=True)                  # float32
    loss = F.binary_cross_entropy_with_logits(x, minigrad.ones(2, 3, dtype=F64))
    assert loss.dtype == minigrad.float64
    loss.backward()
    assert x.grad.dtype == minigrad.float32


# ---------------------------------------------------------------------------
# The losses' errors
# ---------------------------------------------------------------------------
BCE_FUNCTIONS = [F.binary_cross_entropy, F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("fn", BCE_FUNCTIONS)
def test_bce_losses_refuse_a_target_of_another_shape_naming_both_shapes(fn):
    x = minigrad.full((4, 1), 0.5)
    with pytest.raises(ValueError, match=r"target of shape \(4,\) differs from input of "
                                         r"shape \(4, 1\)"):
        fn(x, minigrad.ones(4))


@pytest.mark.parametrize("fn", BCE_FUNCTIONS)
def test_bce_losses_refuse_an_unknown_reduction(fn):
    x = minigrad.full((2,), 0.5)
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', "
                                         r"got 'avg'"):
        fn(x, x, reduction="avg")


@pytest.mark.parametrize("cls", [nn.BCELoss, nn.BCEWithLogitsLoss])
def test_bce_modules_refuse_an_unknown_reduction_at_construction(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: reduction must be .* got 'avg'"):
        cls(reduction="avg")


@pytest.mark.parametrize("fn", BCE_FUNCTIONS)
def test_bce_losses_refuse_a_weight_that_does_not_broadcast_to_the_input(fn):
    x = minigrad.full((4, 3), 0.5)
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not broadcast to the "
                                         r"input's shape \(4, 3\)"):
        fn(x, x, weight=minigrad.ones(4))


def test_bce_with_logits_refuses_a_pos_weight_that_does_not_broadcast():
    x = minigrad.zeros(2, 3)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=minigrad.ones(2))


@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan")])
def test_binary_cross_entropy_refuses_an_input_outside_0_1_naming_the_value(bad):
    x = minigrad.tensor([0.5, bad])
    with pytest.raises(ValueError, match=r"input must be probabilities in \[0, 1\], got "
                                         rf"{bad!r}.*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(x, minigrad.ones(2))


@pytest.mark.parametrize("fn", BCE_FUNCTIONS)
def test_bce_losses_refuse_integer_or_non_tensor_targets(fn):
    x = minigrad.full((2,), 0.5)
    with pytest.raises(TypeError, match=r"target has dtype int64, expected"):
        fn(x, minigrad.tensor([1, 0]))
    with pytest.raises(TypeError, match=r"target must be a Tensor, got list"):
        fn(x, [1.0, 0.0])
    with pytest.raises(TypeError, match=r"input must be a Tensor, got list"):
        fn([0.5, 0.5], x)


def test_binary_cross_entropy_refuses_a_target_of_another_float_dtype_as_torch_does():
    x = minigrad.full((2,), 0.5)
    with pytest.raises(TypeError, match=r"target has dtype float64, expected the input's "
                                        r"dtype float32; convert with target.to\(minigrad"
                                        r".float32\)"):
        F.binary_cross_entropy(x, minigrad.ones(2, dtype=F64))


# ---------------------------------------------------------------------------
# leaky_relu / nn.LeakyReLU
# ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, -0.5, 1.5])
def test_leaky_relu_values_and_gradients_equal_torch_including_at_zero(slope):
    x = np.concatenate([host((11,), 1), [0.0, 0.0, -0.0]])
    assert_same_as_torch(lambda a: F.leaky_relu(a, slope),
                         lambda a: torch.nn.functional.leaky_relu(a, slope), [x], [True])
    assert_same_as_torch(nn.LeakyReLU(slope), torch.nn.LeakyReLU(slope), [x], [True])


def test_leaky_relu_default_slope_is_0_01_and_gradchecks():
    x = minigrad.tensor([-2.0, 3.0], dtype=F64)
    assert F.leaky_relu(x).tolist() == [-0.02, 3.0]
    assert nn.LeakyReLU()(x).tolist() == [-0.02, 3.0]
    assert minigrad.gradcheck(lambda a: F.leaky_relu(a, 0.3), [randn64(3, 4)])


@needs_torch
def test_leaky_relu_repr_is_torchs():
    for args in [(), (0.2,), (0.2, True), (0,)]:
        assert repr(nn.LeakyReLU(*args)) == repr(torch.nn.LeakyReLU(*args))


def test_leaky_relu_inplace_overwrites_its_input_where_nothing_is_recorded():
    x = minigrad.tensor([-1.0, 2.0])
    assert nn.LeakyReLU(0.5, inplace=True)(x) is x
    assert x.tolist() == [-0.5, 2.0]


def test_leaky_relu_refuses_a_slope_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"negative_slope must be a number, got "
                                        r"negative_slope='0.1'"):
        nn.LeakyReLU("0.1")
    with pytest.raises(TypeError, match=r"leaky_relu: negative_slope must be a number"):
        F.leaky_relu(minigrad.zeros(2), None)


# ---------------------------------------------------------------------------
# gelu / nn.GELU
# ---------------------------------------------------------------------------
@needs_torch
def test_gelu_tanh_values_and_gradients_equal_torch():
    x = np.concatenate([3 * host((20,), 1), [0.0, 8.0, -8.0, 30.0, -30.0]])
    assert_same_as_torch(lambda a: F.gelu(a, approximate="tanh"),
                         lambda a: torch.nn.functional.gelu(a, approximate="tanh"), [x], [True])
    assert_same_as_torch(nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh"),
                         [x], [True])


def test_gelu_tanh_gradchecks_and_is_half_x_times_1_plus_tanh():
    assert minigrad.gradcheck(lambda a: F.gelu(a, approximate="tanh"), [randn64(3, 4)])
    x = 1.3
    expected = 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    y = F.gelu(minigrad.tensor([x], dtype=F64), approximate="tanh")
    assert y.item() == pytest.approx(expected, rel=1e-15)


@needs_torch
def test_gelu_repr_is_torchs():
    assert repr(nn.GELU(approximate="tanh")) == repr(torch.nn.GELU(approximate="tanh")) \
        == "GELU(approximate='tanh')"


@needs_torch
def test_gelu_exact_values_and_gradients_equal_torch():
    x = np.concatenate([3 * host((20,), 2), [0.0, 8.0, -8.0, 30.0, -30.0]])
    assert_same_as_torch(F.gelu, torch.nn.functional.gelu, [x], [True])
    assert_same_as_torch(nn.GELU(), torch.nn.GELU(), [x], [True])
    assert repr(nn.GELU()) == repr(torch.nn.GELU()) == "GELU(approximate='none')"


def test_gelu_exact_is_x_times_the_normal_cdf_and_gradchecks():
    assert minigrad.gradcheck(F.gelu, [randn64(3, 4)])
    x = -0.7
    y = F.gelu(minigrad.tensor([x], dtype=F64))
    assert y.item() == pytest.approx(x * 0.5 * (1 + math.erf(x / math.sqrt(2))), rel=1e-15)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match=r"approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(minigrad.zeros(2), approximate="erf")
    with pytest.raises(ValueError, match=r"GELU: approximate must be"):
        nn.GELU("sigmoid")


# ---------------------------------------------------------------------------
# nn.Identity
# ---------------------------------------------------------------------------
def test_identity_returns_its_input_and_ignores_constructor_arguments():
    x = randn64(2, 3)
    layer = nn.Identity(54, unused_argument=0.1)
    assert layer(x) is x
    assert repr(layer) == "Identity()"
    assert list(layer.parameters()) == [] and list(layer.state_dict()) == []


def test_identity_replaces_a_classifier_head():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features, self.fc = nn.Linear(4, 3), nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(self.features(x))
    model, x = Net().double(), randn64(5, 4)
    model.fc = nn.Identity()
    np.testing.assert_array_equal(model(x).numpy(), model.features(x).numpy())
    assert [name for name, _ in model.named_parameters()] == ["features.weight", "features.bias"]


def test_new_layers_save_and_load_as_whole_modules(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 4),
                          nn.GELU(approximate="tanh"), nn.Identity(), nn.Linear(4, 1))
    path = str(tmp_path / "model.npz")
    minigrad.save(model, path)
    loaded = minigrad.load(path)
    assert repr(loaded) == repr(model)
    x = minigrad.randn(2, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


# ---------------------------------------------------------------------------
# nn.ParameterList / nn.ParameterDict
# ---------------------------------------------------------------------------
class Scaled(nn.Module):
    """A per-layer scale held in a ParameterList, plus a plain layer."""

    def __init__(self, sizes=(3, 2)):
        super().__init__()
        self.scales = nn.ParameterList([nn.Parameter(minigrad.ones(n)) for n in sizes])
        self.gates = nn.ParameterDict({"a": nn.Parameter(minigrad.zeros(1))})
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x * self.scales[0]) * self.scales[1] + self.gates["a"]


def test_parameter_list_parameters_are_registered_under_their_index():
    model = Scaled()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scales.0", "scales.1", "gates.a", "fc.weight", "fc.bias"]
    assert list(model.state_dict()) == names
    assert [p is q for p, q in zip(model.parameters(), model.scales)] == [True, True]


@needs_torch
def test_parameter_list_and_dict_keys_are_torchs():
    class TorchScaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(n))
                                                  for n in (3, 2)])
            self.gates = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(1))})
            self.fc = torch.nn.Linear(3, 2)
    assert list(Scaled().state_dict()) == list(TorchScaled().state_dict())
    theirs = TorchScaled()
    ours = Scaled()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@needs_torch
def test_parameter_list_repr_is_torchs_with_minigrad_dtypes():
    for sizes in [(), ((2,),), ((3, 4), (2,))]:
        ours = repr(nn.ParameterList([minigrad.ones(*s) for s in sizes]))
        theirs = repr(torch.nn.ParameterList([torch.ones(*s) for s in sizes]))
        assert ours == theirs.replace("torch.", "minigrad.")


def test_parameter_list_is_trained_by_an_optimizer():
    model = Scaled()
    before = [p.numpy().copy() for p in model.scales]
    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.1)
    x, y = minigrad.randn(8, 3), minigrad.randn(8, 2)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert all(not np.array_equal(b, p.numpy()) for b, p in zip(before, model.scales))
    assert model.gates["a"].item() != 0.0


def test_parameter_list_and_dict_survive_state_dict_and_load_state_dict(tmp_path):
    model = Scaled()
    with minigrad.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(minigrad.randn(*p.shape) + i)
    path = str(tmp_path / "state.npz")
    minigrad.save(model.state_dict(), path)
    fresh = Scaled()
    fresh.load_state_dict(minigrad.load(path))
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    with pytest.raises(KeyError, match=r"missing keys \['scales.2'\]"):
        Scaled(sizes=(3, 2, 1)).load_state_dict(model.state_dict())


def test_a_module_holding_parameter_containers_saves_and_loads_whole(tmp_path):
    model = Scaled()
    with minigrad.no_grad():
        model.scales[1].fill_(5.0)
    path = str(tmp_path / "model.npz")
    minigrad.save(model, path)
    with minigrad.serialization.safe_globals([Scaled]):
        loaded = minigrad.load(path)
    assert loaded.scales[1].tolist() == [5.0, 5.0]
    assert list(loaded.state_dict()) == list(model.state_dict())


def test_a_parameter_list_on_its_own_saves_its_state_dict_not_itself(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save the whole module.*ParameterList.*"
                                        r"save its state instead"):
        minigrad.save(nn.ParameterList([minigrad.ones(2)]), str(tmp_path / "p.npz"))


def test_parameter_list_appends_extends_indexes_slices_and_iterates():
    a, b, c = (nn.Parameter(minigrad.ones(n)) for n in (1, 2, 3))
    plist = nn.ParameterList([a])
    assert plist.append(b) is plist
    plist += [c]
    assert len(plist) == 3 and list(plist) == [a, b, c]
    assert plist[0] is a and plist[-1] is c and plist[-3] is a
    sliced = plist[1:]
    assert isinstance(sliced, nn.ParameterList) and list(sliced) == [b, c]
    assert list(sliced.state_dict()) == ["0", "1"]
    d = nn.Parameter(minigrad.zeros(4))
    plist[1] = d
    assert list(plist) == [a, d, c] and list(plist.state_dict()) == ["0", "1", "2"]
    assert plist.extend([]) is plist and len(nn.ParameterList()) == 0


def test_parameter_list_wraps_plain_tensors_in_parameters_as_torch_does():
    t = minigrad.zeros(2)
    plist = nn.ParameterList([t])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad
    plist.append(minigrad.ones(3))
    assert isinstance(plist[1], nn.Parameter)


def test_parameter_list_moves_and_converts_with_its_module():
    model = Scaled().double()
    assert all(p.dtype == minigrad.float64 for p in model.scales)


def test_parameter_list_refuses_what_is_not_a_tensor_and_adds_nothing():
    plist = nn.ParameterList([minigrad.ones(1)])
    with pytest.raises(TypeError, match=r"ParameterList: item 2 must be an nn.Parameter or a "
                                        r"Tensor, got float"):
        plist.extend([minigrad.ones(1), 0.5])
    assert len(plist) == 1
    with pytest.raises(TypeError, match=r"extend should be called with an iterable"):
        plist.extend(minigrad.ones(3))
    with pytest.raises(IndexError, match=r"index 1 is out of range for a list of 1"):
        plist[1]
    with pytest.raises(IndexError, match=r"index -2 is out of range"):
        plist[-2] = minigrad.ones(1)
    with pytest.raises(NotImplementedError, match=r"container"):
        plist(minigrad.ones(1))


def test_parameter_dict_registers_updates_deletes_and_reads_like_a_dict():
    pd = nn.ParameterDict({"w": minigrad.ones(2), "b": nn.Parameter(minigrad.zeros(1))})
    assert list(pd) == list(pd.keys()) == ["w", "b"] and len(pd) == 2
    assert isinstance(pd["w"], nn.Parameter) and "b" in pd and "x" not in pd
    pd.update([("x", minigrad.ones(3))])
    pd["w"] = minigrad.full((2,), 2.0)
    assert list(pd.state_dict()) == ["w", "b", "x"]
    assert pd["w"].tolist() == [2.0, 2.0]
    popped = pd.pop("b")
    del pd["x"]
    assert list(pd.keys()) == ["w"] and popped.tolist() == [0.0]
    assert [p for p in pd.parameters()] == list(pd.values())
    assert pd.get("missing") is None and dict(pd.items())["w"] is pd["w"]
    with pytest.raises(KeyError):
        del pd["missing"]


def test_parameter_dict_refuses_bad_keys_and_values_naming_them():
    pd = nn.ParameterDict()
    with pytest.raises(TypeError, match=r"keys must be strings, got 3"):
        pd[3] = minigrad.ones(1)
    with pytest.raises(KeyError, match=r"'a.b' must be a non-empty string without '.'"):
        pd["a.b"] = minigrad.ones(1)
    with pytest.raises(KeyError, match=r"'keys' is the name of one of its attributes"):
        pd.update({"ok": minigrad.ones(1), "keys": minigrad.ones(1)})
    assert len(pd) == 0                                  # update checks everything first
    with pytest.raises(TypeError, match=r"ParameterDict: item 'w' must be an nn.Parameter or "
                                        r"a Tensor, got str"):
        pd["w"] = "weights"


# ---------------------------------------------------------------------------
# The stand-in GPU
# ---------------------------------------------------------------------------
DEVICE_CASES = {
    "bce": (lambda x, y, w: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), w, "none"),
            [(3, 4), (3, 4), (4,)]),
    "bce_clamped": (lambda x, y, w: F.binary_cross_entropy((x * 1e3).sigmoid(), y.sigmoid()),
                    [(3, 4), (3, 4), (4,)]),
    "bce_with_logits": (lambda x, y, w: F.binary_cross_entropy_with_logits(
        x * 400, y.sigmoid(), w, "sum", w * w), [(3, 4), (3, 4), (4,)]),
    "leaky_relu_gelu": (lambda x: F.leaky_relu(x, 0.1) + F.gelu(x, approximate="tanh"),
                        [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_new_functions_give_the_same_results_on_the_checked_device(name):
    fn, shapes = DEVICE_CASES[name]
    arrays = [host(s, i) for i, s in enumerate(shapes)]
    results = []
    with checked_device() as device:
        for where in ("cpu", device):
            xs = [minigrad.tensor(a, dtype=F64, requires_grad=True, device=where)
                  for a in arrays]
            out = fn(*xs)
            out.sum().backward()
            results.append((out, xs))
        (cpu_out, cpu_xs), (dev_out, dev_xs) = results
        assert dev_out.device != "cpu"
        np.testing.assert_allclose(dev_out.numpy(), cpu_out.numpy(), **TOL)
        for a, b in zip(cpu_xs, dev_xs):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                assert b.grad.device == dev_out.device
                np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), **TOL)
