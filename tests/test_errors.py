"""Bad input raises at the user's call, with a message naming the shapes/dtypes/indices."""
import numpy as np
import pytest

import minigrad

A = minigrad.ones(2, 3)


@pytest.mark.parametrize("f,error,pattern", [
    (lambda: A + minigrad.ones(4), ValueError, r"add.*\(2,3\).*\(4,\)"),
    (lambda: A * minigrad.ones(4), ValueError, r"mul.*\(2,3\).*\(4,\)"),
    (lambda: A / minigrad.ones(3, 1), ValueError, r"div.*\(2,3\).*\(3,1\)"),
    (lambda: A @ A, ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned \(3 != 2\)"),
    (lambda: A @ minigrad.ones(4), ValueError, r"\(2, 3\) and \(4,\)"),
    (lambda: A @ minigrad.tensor(2.0), ValueError, r"matmul.*\(2, 3\) and \(\)"),
    (lambda: minigrad.cat([A, minigrad.ones(3, 5)], 0), ValueError, r"cat.*\(3, 5\).*\(2, 3\)"),
    (lambda: minigrad.stack([A, minigrad.ones(3, 2)]), ValueError, r"stack.*\(3, 2\).*\(2, 3\)"),
    (lambda: minigrad.cat([], 0), ValueError, "non-empty"),
    (lambda: A.reshape(4, 2), ValueError, r"\(2, 3\).*\(4, 2\)"),
    (lambda: A.view(5, -1), ValueError, r"\(2, 3\).*\(5, -1\)"),
    (lambda: A.expand(4, 4), ValueError, r"expand.*\(2, 3\).*\(4, 4\)"),
    (lambda: A.permute(0, 0), ValueError, r"permute.*\(0, 0\)"),
    (lambda: A.split([1, 1], 1), ValueError, r"split.*\[1, 1\].*\(2, 3\)"),
    (lambda: A.chunk(0), ValueError, "chunk"),
    (lambda: A.sum(2), IndexError, "sum: dim 2 is out of range.*2 dimensions"),
    (lambda: A.max(-3), IndexError, "dim -3"),
    (lambda: A.transpose(0, 3), IndexError, "dim 3"),
    (lambda: A.softmax(2), IndexError, "softmax: dim 2"),
    (lambda: A.unsqueeze(4), IndexError, "unsqueeze: dim 4"),
    (lambda: A.clamp(), ValueError, "min and max"),
    (lambda: A.item(), ValueError, r"\(2, 3\)"),
    (lambda: bool(A), RuntimeError, "6 elements"),
    (lambda: minigrad.tensor([1, 2]).mean(), TypeError, "int64"),
    (lambda: minigrad.tensor("abc"), TypeError, "str"),
    (lambda: minigrad.zeros(-1), ValueError, r"\(-1,\)"),
])
def test_bad_arguments_name_what_was_wrong(f, error, pattern):
    with pytest.raises(error, match=pattern):
        f()


def test_matmul_dtype_mismatch_names_both_dtypes():
    with pytest.raises(TypeError, match="float32 and float64"):
        A @ minigrad.ones(3, 2, dtype=minigrad.float64)


@pytest.mark.parametrize("index,shown", [(5, "5"), ((0, 7), "0, 7"), ([0, 9], r"\[0, 9\]"),
                                         (-3, "-3")])
def test_index_out_of_range_names_index_and_shape(index, shown):
    with pytest.raises(IndexError, match=rf"index {shown} is out of range.*shape \(2, 3\)"):
        A[index]


def test_mask_of_wrong_shape():
    with pytest.raises(IndexError, match=r"mask \(5,\).*\(2, 3\)"):
        A[np.ones(5, bool)]


@pytest.mark.parametrize("target,error,pattern", [
    ([0, 3], IndexError, "target value 3 is out of range for 3 classes"),
    ([0, -2], IndexError, "target value -2"),
    ([0.0, 1.0], TypeError, "integer class indices.*float"),
    ([0, 1, 2], ValueError, r"logits of shape \(2, 3\) need a target of shape \(2,\), got \(3,\)"),
    ([[0], [1]], ValueError, r"got \(2, 1\)"),
])
def test_cross_entropy_target_errors(target, error, pattern):
    with pytest.raises(error, match=pattern):
        minigrad.cross_entropy(A, target)


def test_cross_entropy_bad_reduction_and_logits():
    with pytest.raises(ValueError, match="'avg'"):
        minigrad.cross_entropy(A, [0, 1], reduction="avg")
    with pytest.raises(TypeError, match="float tensor"):
        minigrad.cross_entropy(minigrad.tensor([[1, 2]]), [0])


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="int64"):
        minigrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.arange(3).requires_grad_()


def test_backward_errors():
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2, 3\)"):
        (minigrad.ones(2, 3, requires_grad=True) * 2).backward()
    x = minigrad.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\).*shape \(\)"):
        x.sum().backward(minigrad.ones(3))
    with pytest.raises(RuntimeError, match="input 0.*does not require grad"):
        minigrad.grad(x.sum(), minigrad.ones(2))


def test_custom_op_returning_wrong_gradient_shape_or_count():
    class BadShape(minigrad.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy.sum()

    class BadCount(minigrad.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy, gy

    x = minigrad.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(\) for an input of shape \(3,\)"):
        BadShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="returned 2 gradients.*1 inputs"):
        BadCount.apply(x).sum().backward()


def test_gradcheck_reports_the_worst_element():
    class WrongGrad(minigrad.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * 3    # wrong on purpose: should be 2x

    x = minigrad.tensor([0.5, 1.5, -4.0], requires_grad=True, dtype=minigrad.float64)
    with pytest.raises(minigrad.GradcheckError, match=r"input 0 \(shape \(3,\)\).*index \(2,\)"
                                                      r".*analytic.*numeric"):
        minigrad.gradcheck(WrongGrad.apply, [x])
    assert minigrad.gradcheck(WrongGrad.apply, [x], raise_exception=False) is False
    with pytest.raises(TypeError, match="float64"):
        minigrad.gradcheck(lambda t: t * 2, [minigrad.randn(2, requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        minigrad.gradcheck(lambda t: t * 2, [minigrad.ones(2, dtype=minigrad.float64)])
