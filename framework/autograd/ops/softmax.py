"""softmax, log_softmax and logsumexp along one dim, stable for large inputs."""
from ..function import Function
from .shapes import normalize_dim, reduced_shape


def _arr(shape, dim):
    """(A, R, B) for the dim ``dim`` of ``shape``: no copy, any dim."""
    a = b = 1
    for d, n in enumerate(shape):
        if d < dim:
            a *= n
        elif d > dim:
            b *= n
    return a, (shape[dim] if shape else 1), b


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim, log_output):
        k = ctx.kernels
        a, r, b = _arr(x.shape, dim)
        out = k.empty(x.shape, x.dtype)
        k.softmax(out.reshape(a, r, b), x.reshape(a, r, b), log_output)
        ctx.arb, ctx.log_output = (a, r, b), log_output
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        grad = ctx.kernels.empty(out.shape, g.dtype)
        ctx.kernels.softmax_grad(grad.reshape(ctx.arb), g.reshape(ctx.arb),
                                 out.reshape(ctx.arb), ctx.log_output)
        return grad, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim, keepdim):
        k = ctx.kernels
        a, r, b = _arr(x.shape, dim)
        out = k.empty((a, b), x.dtype)
        k.logsumexp(out, x.reshape(a, r, b))
        ctx.save_for_backward(x, out)
        ctx.arb = (a, r, b)
        return out.reshape(reduced_shape(x.shape, {dim}, keepdim))

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        a, r, b = ctx.arb
        grad = ctx.kernels.empty(x.shape, g.dtype)
        ctx.kernels.logsumexp_grad(grad.reshape(a, r, b), g.reshape(a, b),
                                   x.reshape(a, r, b), out)
        return grad, None, None


def _float_input(x, name):
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating point tensor, got {x.dtype!r}")


def softmax(x, dim):
    _float_input(x, "softmax")
    return Softmax.apply(x, normalize_dim("softmax", dim, x.ndim), False)


def log_softmax(x, dim):
    _float_input(x, "log_softmax")
    return Softmax.apply(x, normalize_dim("log_softmax", dim, x.ndim), True)


def logsumexp(x, dim, keepdim=False):
    _float_input(x, "logsumexp")
    return LogSumExp.apply(x, normalize_dim("logsumexp", dim, x.ndim), keepdim)
