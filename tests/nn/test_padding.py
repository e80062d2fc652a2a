"""F.pad in every mode and nn.Conv2d's padding_mode, against NumPy's np.pad, with float64
gradchecks and the errors."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64
from tests.nn.test_conv import conv2d_ref

NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
            "circular": "wrap"}


def pad_ref(x, pad, mode, value=0.0):
    """PyTorch's F.pad by np.pad: the positive pads pad, the negative ones crop. Circular
    mode wraps around what cropping leaves; the others crop the padded array, which is
    the same as padding in the input's own coordinates."""
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    pairs = [(0, 0)] * (x.ndim - len(pairs)) + pairs
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]

    def crop(a):
        return a[tuple(slice(max(-lo, 0), a.shape[d] - max(-hi, 0))
                       for d, (lo, hi) in enumerate(pairs))]

    if mode == "circular":
        return np.pad(crop(x), grow, mode="wrap")
    kwargs = {"constant_values": value} if mode == "constant" else {}
    return crop(np.pad(x, grow, mode=NP_MODES[mode], **kwargs))


# (input shape, pad, mode, value)
PAD_CASES = [
    ((2, 3, 4), (1, 2), "constant", None),
    ((2, 3, 4, 5), (1, -2, 2, 0), "constant", 1.5),
    ((5,), (-2, 3), "constant", -1.0),
    ((2, 3), (1, 1, 2, 0), "constant", 0.25),          # every dim of the input
    ((2, 3, 4), (-1, -3, 0, 0, 1, 1), "constant", 2.0),  # the last dim cropped to nothing
    ((2, 3, 4, 5), (1, 2, 3, 0), "reflect", None),
    ((3, 5), (4, 1), "reflect", None),                  # unbatched (C, W)
    ((1, 2, 5), (-1, 2), "reflect", None),
    ((1, 2, 3, 4, 5), (1, 0, 2, 1, 2, 2), "reflect", None),
    ((2, 3, 4, 5), (2, 1, 0, 3), "replicate", None),
    ((3, 4, 5), (-1, 6), "replicate", None),
    ((2, 3, 4, 5), (1, 1, 1, 2, 2, 1), "replicate", None),  # unbatched (C, D, H, W)
    ((2, 3, 4, 5), (5, 1, 4, 2), "circular", None),     # a pad of the whole dim
    ((3, 4, 5), (1, 2, 0, 3), "circular", None),        # unbatched (C, H, W)
    ((2, 2, 6), (-3, 2), "circular", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", PAD_CASES)
def test_pad_matches_numpy_and_gradcheck(rng, shape, pad, mode, value):
    x = rng.standard_normal(shape)
    want = pad_ref(x, pad, mode, 0.0 if value is None else value)
    tx = t64(x)
    out = F.pad(tx, pad, mode=mode, value=value)
    assert out.shape == want.shape
    assert_close(out, want, rtol=0, atol=0)
    assert gradcheck(lambda a: F.pad(a, pad, mode=mode, value=value), [tx])


def test_pad_crop_then_pad_follows_pytorch():
    # The values PyTorch 2.x gives: reflect and replicate pad in the input's own
    # coordinates, circular wraps around the part that cropping leaves.
    x = fw.arange(5.0).reshape(1, 5)
    assert F.pad(x, (-1, 2), mode="circular").tolist() == [[1, 2, 3, 4, 1, 2]]
    assert F.pad(x, (-1, 2), mode="reflect").tolist() == [[1, 2, 3, 4, 3, 2]]
    assert F.pad(x, (3, -3), mode="reflect").tolist() == [[3, 2, 1, 0, 1]]
    assert F.pad(x, (-1, 2), mode="replicate", value=0.0).tolist() == [[1, 2, 3, 4, 4, 4]]


def test_pad_dtypes_and_empty_tensors():
    x = fw.tensor(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    out = F.pad(x, (1, 1), mode="reflect")
    assert out.dtype == fw.float32
    assert_close(out, pad_ref(x.numpy(), (1, 1), "reflect"), rtol=0, atol=0)
    ints = F.pad(fw.tensor(np.ones((2, 2), np.int64)), (1, 0), value=-2.5)
    assert ints.dtype == fw.int64 and ints.tolist() == [[-2, 1, 1], [-2, 1, 1]]
    assert F.pad(fw.zeros(0, 2, 3), (1, 1), mode="replicate").shape == (0, 2, 5)
    assert F.pad(fw.zeros(2, 0), (1, 1), value=3.0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    x = t64(np.ones((2, 3)))
    F.pad(x, (-2, -1)).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("call,error,message", [
    (lambda x: F.pad(x, (1, 1, 1)), ValueError, r"divisible by 2, got 3 values \(1, 1, 1\)"),
    (lambda x: F.pad(x, (1,) * 10), ValueError, r"pads 5 dims but the input of shape "
                                                r"\(2, 3, 4, 5\) has only 4"),
    (lambda x: F.pad(x, (1.5, 1)), TypeError, r"pad must be a tuple of ints"),
    (lambda x: F.pad(x, (1, 1), mode="wrap"), ValueError, r"mode must be one of "
                                                          r"'constant'.*got 'wrap'"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=1.0), ValueError,
     r"mode 'reflect' takes no value"),
    (lambda x: F.pad(x, (-3, -3)), ValueError, r"negative padding \(-3, -3\) of dim 3 "
                                               r"removes more than its size 5"),
    (lambda x: F.pad(x, (1, 1), mode="reflect"), ValueError,
     r"got 2 padding values for an input of shape \(2, 3, 4, 5\)"),
    (lambda x: F.pad(x[0, 0, 0], (1, 1), mode="replicate"), ValueError,
     r"got 2 padding values for an input of shape \(5,\)"),
    (lambda x: F.pad(x, (1, 1, 4, 0), mode="reflect"), ValueError,
     r"reflect padding \(4, 0\) of dim 2 of size 4 \(input shape \(2, 3, 4, 5\)\): each "
     r"pad must be less than the size"),
    (lambda x: F.pad(x, (6, 0, 0, 0), mode="circular"), ValueError,
     r"circular padding \(6, 0\) of dim 3 .* wrap around more than once: each pad must be "
     r"at most 5"),
    (lambda x: F.pad(x, (-2, 4, 0, 0), mode="circular"), ValueError,
     r"wrap around more than once: each pad must be at most 3"),
    (lambda x: F.pad(x, (-4, -1, 0, 0), mode="replicate"), ValueError,
     r"replicate padding \(-4, -1\) of dim 3 .* leaves no element"),
    (lambda x: F.pad(x.numpy(), (1, 1)), TypeError, r"input must be a Tensor"),
])
def test_pad_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(fw.zeros(2, 3, 4, 5))


# Conv2d kwargs and the (top, bottom, left, right) padding they ask of F.pad
CONV_PADDINGS = [
    (dict(kernel_size=3, padding=1), (1, 1, 1, 1)),
    (dict(kernel_size=(3, 2), padding=(2, 1), stride=(2, 1)), (2, 2, 1, 1)),
    (dict(kernel_size=(2, 3), padding="same", dilation=(3, 1)), (1, 2, 1, 1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs,tblr", CONV_PADDINGS)
def test_conv2d_padding_modes_match_numpy(rng, mode, kwargs, tblr):
    conv = nn.Conv2d(2, 3, padding_mode=mode, dtype=fw.float64, generator=fw.Generator(1),
                     **kwargs)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    x = rng.standard_normal((2, 2, 5, 4))
    top, bottom, left, right = tblr
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=NP_MODES[mode])
    stride = conv.stride
    want = conv2d_ref(xp, w, b, stride, (0, 0), (0, 0), conv.dilation, 1)
    tx = t64(x)
    assert_close(conv(tx), want, rtol=1e-12, atol=1e-12)
    assert_close(conv(tx[1]), want[1], rtol=1e-12, atol=1e-12)  # unbatched (C, H, W)
    assert gradcheck(conv, [tx])


def test_conv2d_padding_mode_repr_and_errors():
    conv = nn.Conv2d(2, 3, (2, 3), padding="same", padding_mode="circular", bias=False)
    assert repr(conv) == ("Conv2d(2, 3, kernel_size=(2, 3), stride=(1, 1), padding=same, "
                          "bias=False, padding_mode=circular)")
    assert conv._reversed_padding_repeated_twice == (1, 1, 0, 1)
    assert conv(fw.randn(1, 2, 4, 5)).shape == (1, 3, 4, 5)
    with pytest.raises(ValueError, match=r"padding_mode must be one of 'zeros', 'reflect', "
                                         r"'replicate', 'circular', got 'wrap'"):
        nn.Conv2d(1, 1, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same", padding_mode="reflect")
    with pytest.raises(ValueError, match=r"invalid padding string 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"padding must be >= 0, got \(-1, -1\)"):
        nn.Conv2d(1, 1, 3, padding=-1, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"reflect padding \(2, 2\) of dim 2 of size 2"):
        nn.Conv2d(1, 1, 5, padding=2, padding_mode="reflect")(fw.zeros(1, 1, 2, 6))
