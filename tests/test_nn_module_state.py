"""Module state: parameters vs buffers, state_dict round trips, load_state_dict failures
that name the key and leave the module unchanged, dtype conversion."""
import re

import numpy as np
import pytest

import minigrad
import nn


def small_net():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(2 * 2 * 2, 3))


def snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_state_dict_keys_parameters_and_buffers():
    net = small_net()
    keys = list(net.state_dict())
    assert keys == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                    "1.num_batches_tracked", "4.weight", "4.bias"]
    params = dict(net.named_parameters())
    assert "1.running_mean" not in params and "1.num_batches_tracked" not in params
    assert len(list(net.parameters())) == 6
    assert [n for n, _ in net.named_buffers()] == ["1.running_mean", "1.running_var",
                                                   "1.num_batches_tracked"]


def test_state_dict_round_trip_between_modules():
    a, b = small_net(), small_net()
    a(minigrad.randn(4, 1, 4, 4))                           # move the running statistics
    b.load_state_dict(a.state_dict())
    for k, v in snapshot(a).items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v)
    a.eval()
    b.eval()
    x = minigrad.randn(3, 1, 4, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_copies_values():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    sd = a.state_dict()
    b.load_state_dict(sd)
    with minigrad.no_grad():
        a.weight.array[...] = 0
    assert b.weight.numpy().any()                           # b holds its own copy


@pytest.mark.parametrize("change,error,pattern", [
    (lambda sd: sd.pop("4.bias"), KeyError, r"missing keys \['4.bias'\]"),
    (lambda sd: sd.__setitem__("4.extra", np.zeros(3)), KeyError, r"unexpected keys \['4.extra'\]"),
    (lambda sd: sd.__setitem__("4.weight", np.zeros((3, 9))), ValueError,
     r"'4.weight'.*\(3, 9\).*\(3, 8\)"),
    (lambda sd: sd.__setitem__("1.running_var", np.zeros(5)), ValueError,
     r"'1.running_var'.*\(5,\).*\(2,\)"),
])
def test_load_state_dict_failures_name_the_key_and_change_nothing(change, error, pattern):
    source, target = small_net(), small_net()
    sd = {k: v.numpy() for k, v in source.state_dict().items()}
    # put a wrong entry after the good ones, so a partial load would be visible
    change(sd)
    before = snapshot(target)
    with pytest.raises(error, match=pattern):
        target.load_state_dict(sd)
    for k, v in snapshot(target).items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_not_strict_reports_keys():
    net = nn.Linear(2, 3)
    missing, unexpected = net.load_state_dict({"weight": np.ones((3, 2)), "junk": np.ones(1)},
                                              strict=False)
    assert missing == ["bias"] and unexpected == ["junk"]
    np.testing.assert_array_equal(net.weight.numpy(), np.ones((3, 2)))


def test_double_and_float_convert_parameters_and_float_buffers_only():
    net = small_net().double()
    for _, t in net.state_dict().items():
        assert t.dtype in (minigrad.float64, minigrad.int64)
    assert net[1].num_batches_tracked.dtype == minigrad.int64
    assert net(minigrad.randn(2, 1, 4, 4, dtype=minigrad.float64)).dtype == minigrad.float64
    net.float()
    assert all(p.dtype == minigrad.float32 for p in net.parameters())
    assert net[1].running_var.dtype == minigrad.float32


def test_buffers_follow_to_cpu_and_optimizers_never_see_them():
    net = small_net()
    net.to("cpu")
    assert net[1].running_mean.device == "cpu"
    opt = minigrad.optim.SGD(net.parameters(), lr=0.1)
    ids = {id(p) for g in opt.param_groups for p in g["params"]}
    assert id(net[1].running_mean) not in ids and len(ids) == 6


def test_train_eval_flags_reach_every_submodule():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_layer_reprs():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))" in repr(small_net())
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1)"


# -- registration: what an attribute reads is what the module has registered ---------------
def registered(module):
    """{name: value} of the module's own parameters, buffers and submodules, as the module
    itself reports them, and each as an attribute read gives it."""
    own = {**dict(module.named_parameters(recurse=False)),
           **dict(module.named_buffers(recurse=False)), **dict(module.named_children())}
    return own, {name: getattr(module, name) for name in own}


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(minigrad.zeros(2))
        self.child = nn.Linear(2, 2)
        self.register_buffer("count", minigrad.zeros(1))


def test_attribute_reads_follow_every_kind_of_registration_change():
    m = Holder()
    own, read = registered(m)
    assert list(own) == ["w", "count", "child"] and all(read[k] is own[k] for k in own)
    new_w, new_child = nn.Parameter(minigrad.ones(3)), nn.Linear(3, 3)
    m.w, m.child, m.count = new_w, new_child, minigrad.ones(1)   # replaced
    assert m.w is new_w and m.child is new_child and m.count.tolist() == [1.0]
    assert dict(m.named_parameters(recurse=False))["w"] is new_w
    m.child = nn.Parameter(minigrad.ones(1))                      # a module's name, now a parameter
    assert "child" not in dict(m.named_children()) and isinstance(m.child, nn.Parameter)
    m.w = None                                                    # PyTorch: the slot stays, empty
    assert m.w is None and "w" not in dict(m.named_parameters())
    del m.count
    assert not hasattr(m, "count") and "count" not in m.state_dict()
    m.register_parameter("late", nn.Parameter(minigrad.zeros(1)))
    m.register_buffer("stat", minigrad.zeros(4))
    own, read = registered(m)
    assert set(own) == {"child", "late", "stat"} and all(read[k] is own[k] for k in own)
    del m.late                                                    # then the name is free
    m.late = 3
    assert m.late == 3 and "late" not in dict(m.named_parameters())


@pytest.mark.parametrize("name, value, expected", [
    ("w", 3, "parameter 'w' (expected an nn.Parameter or None)"),
    ("w", minigrad.ones(2), "parameter 'w' (expected an nn.Parameter or None; wrap it"),
    ("child", "fc", "child module 'child' (expected an nn.Module or None)"),
    ("count", [0.0], "buffer 'count' (expected a Tensor or None)"),
])
def test_a_value_of_the_wrong_kind_over_a_registered_name_raises_and_changes_nothing(
        name, value, expected):
    # PyTorch's rule: what is registered stays registered until deleted or replaced in kind
    m = Holder()
    before, state = registered(m)[0], {k: v.tolist() for k, v in m.state_dict().items()}
    with pytest.raises(TypeError, match=re.escape(f"Holder: cannot assign {type(value).__name__} to {expected}")):
        setattr(m, name, value)
    after = registered(m)[0]
    assert list(after) == list(before) and all(after[k] is v and getattr(m, k) is v
                                               for k, v in before.items())
    assert {k: v.tolist() for k, v in m.state_dict().items()} == state


def test_submodule_set_to_none_leaves_the_tree():
    m = Holder()
    m.child = None
    assert m.child is None and [n for n, _ in m.named_modules()] == [""]
    assert "child.weight" not in m.state_dict()


def test_a_tensor_is_not_silently_put_over_a_parameter():
    lin = nn.Linear(2, 3)
    weight = lin.weight
    with pytest.raises(TypeError, match=r"Linear: cannot assign Tensor to parameter 'weight'"
                                        r".*nn\.Parameter"):
        lin.weight = minigrad.zeros(3, 2)
    assert lin.weight is weight and dict(lin.named_parameters())["weight"] is weight


def test_init_called_again_forgets_the_old_registrations():
    m = Holder()
    nn.Module.__init__(m)
    assert list(m.state_dict()) == [] and not hasattr(m, "w") and not hasattr(m, "child")


def test_a_deep_copy_reads_its_own_registered_values():
    import copy
    m = copy.deepcopy(Holder())
    own, read = registered(m)
    assert all(read[k] is own[k] for k in own) and m.child.weight is m.child._parameters["weight"]
