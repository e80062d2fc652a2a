"""``gradcheck`` itself: it must reject a wrong backward, not only pass right ones."""
import numpy as np
import pytest

import framework as fw
from framework.autograd import Function, gradcheck
from tests.conftest import t64


def _square_with_error(rel_error=0.0, bad_element=None):
    """x**2 whose backward is off by ``rel_error`` (everywhere, or at one element)."""

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved
            factor = np.full(x.shape, 1.0 + rel_error)
            if bad_element is not None:
                factor[:] = 1.0
                factor[bad_element] = 1.0 + rel_error
            return 2.0 * x * g * factor

    return Square.apply


def test_right_backward_passes():
    x = t64(np.linspace(-2.0, 3.0, 12).reshape(3, 4))
    assert gradcheck(_square_with_error(), [x])


@pytest.mark.parametrize("rel_error", [1e-3, 1e-4, -1e-4])
def test_small_relative_error_everywhere_is_rejected(rel_error):
    # PyTorch's default rtol of 1e-3 would let the first of these pass.
    x = t64(np.linspace(-2.0, 3.0, 12).reshape(3, 4))
    with pytest.raises(AssertionError, match=r"gradient of input 0 \(shape \(3, 4\)\)"):
        gradcheck(_square_with_error(rel_error), [x])
    assert gradcheck(_square_with_error(rel_error), [x], raise_exception=False) is False


def test_error_at_one_element_is_found_and_named():
    x = t64(np.linspace(0.5, 2.0, 6))
    with pytest.raises(AssertionError, match=r"differs at \(4,\)"):
        gradcheck(_square_with_error(1e-3, bad_element=4), [x])


def test_error_on_small_gradients_is_rejected():
    # Gradients of size ~3e-3 wrong by 0.1 %: an absolute error of ~3e-6 must not hide
    # under atol (PyTorch's atol of 1e-5 would hide it).
    x = t64(np.linspace(1e-3, 2e-3, 5))
    with pytest.raises(AssertionError):
        gradcheck(_square_with_error(1e-3), [x])


def test_wrong_gradient_of_second_input_is_rejected():
    class MulWrongY(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved
            return g * b, g * a * 1.0001

    a, b = t64([1.0, -2.0, 3.0]), t64([0.5, 0.25, -1.5])
    with pytest.raises(AssertionError, match="gradient of input 1"):
        gradcheck(MulWrongY.apply, [a, b])


def test_float32_inputs_are_refused():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, [fw.ones(3, requires_grad=True)])
