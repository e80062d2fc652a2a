"""fw.onnx.export: checker, onnxruntime agreement at two batch sizes, round trip, errors."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import framework as fw
import framework.nn.functional as F
from framework import nn
from framework.training.models import cnn, mlp


class AllOps(nn.Module):
    """Every op the exporter maps, in one small network with two outputs."""

    def __init__(self, gen):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, stride=1, padding=1, generator=gen)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 4 * 8, 6, generator=gen)
        self.proj = nn.Parameter(fw.randn(6, 6, generator=gen))

    def forward(self, x):
        h = F.relu(self.bn(self.conv(x)))
        pooled = fw.cat([F.max_pool2d(h, 2), F.avg_pool2d(h, 3, stride=2, padding=1)], 1)
        h = self.drop(pooled.permute(0, 2, 3, 1).reshape(pooled.shape[0], -1))
        h = self.fc(h)
        act = h.sigmoid() * h.tanh() + F.gelu(h) - h / 3 + (h * h).sqrt() - h.abs()
        act = act + fw.maximum(h, 0.1) - fw.minimum(h, -0.2) + h.clamp(-1.0, 1.0)
        act = act + fw.where(h > 0, h.exp().clamp(max=5.0), -h) + h.sign() + (-h) ** 2
        act = act @ self.proj + h.transpose(0, 1).T
        act = act - act.mean(1, keepdim=True) + act.amax(1, keepdim=True) * 0.1
        act = act + act.sum(1, keepdim=True).expand(act.shape[0], 6) * 0.01
        act = act + act.logsumexp(1, keepdim=True) - act.std(1, keepdim=True)
        left, right = act.split(3, dim=1)
        probs = F.softmax(left, -1) + F.log_softmax(right, 1)
        flags = ((act >= 0.5).float() + (act != 0).float() + (act <= 0.1).float()
                 + (act < 3).float())
        return probs, flags.sum(1) + act.argmax(1).float()


def _session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def _ours(model, *xs):
    with fw.no_grad():
        out = model(*xs)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def _check_against_onnxruntime(model, path, shape, batches=(3, 5)):
    """The checker accepts the file, and onnxruntime matches us to 1e-5 at two batches."""
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = _session(path)
    names = [i.name for i in session.get_inputs()]
    for batch in batches:
        x = fw.randn(batch, *shape, generator=fw.Generator(batch))
        theirs = session.run(None, {names[0]: x.numpy()})
        for ours, ref in zip(_ours(model, x), theirs, strict=True):
            np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build,shape", [(mlp, (1, 28, 28)), (cnn, (1, 28, 28))])
def test_command_line_models_export_and_match_onnxruntime(tmp_path, build, shape):
    model = build(generator=fw.Generator(0)).eval()
    path = str(tmp_path / "model.onnx")
    proto = fw.onnx.export(model, fw.randn(3, *shape), path)
    assert proto.opset_import[0].version == 21
    graph = onnx.load(path).graph
    assert set(model.state_dict()) <= {i.name for i in graph.initializer}
    batch_dim = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch"
    _check_against_onnxruntime(model, path, shape)


def _all_ops_model():
    gen = fw.Generator(3)
    model = AllOps(gen)
    with fw.no_grad():
        model.bn.running_mean.copy_(fw.randn(4, generator=gen) * 0.1)
        model.bn.running_var.copy_(fw.rand(4, generator=gen) + 0.5)
        model.bn.weight.copy_(fw.rand(4, generator=gen) + 0.5)
    return model.eval()


def test_every_mapped_op_matches_onnxruntime(tmp_path):
    model = _all_ops_model()
    path = str(tmp_path / "all.onnx")
    fw.onnx.export(model, fw.randn(3, 2, 8, 8), path, input_names=["image"],
                   output_names=["probs", "score"])
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "Concat", "Transpose",
            "Reshape", "Gemm", "Gelu", "Softmax", "LogSoftmax", "Split", "Where", "ArgMax",
            "ReduceMean", "ReduceMax", "ReduceSum", "ReduceLogSumExp", "MatMul", "Clip",
            "Expand", "Cast", "Not", "Equal", "Less"} <= ops
    assert "Dropout" not in ops  # the identity in eval mode
    _check_against_onnxruntime(model, path, (2, 8, 8))
    loaded = fw.onnx.load(path)
    x = fw.randn(4, 2, 8, 8, generator=fw.Generator(9))
    for ours, back in zip(_ours(model, x), _ours(loaded, x), strict=True):
        np.testing.assert_allclose(back, ours, rtol=1e-5, atol=1e-5)


class ConvArguments(nn.Module):
    """Conv2d and pooling beyond the defaults: pairs, dilation, groups, "same" with an
    even kernel (asymmetric padding), ceil mode, count_include_pad off, adaptive."""

    def __init__(self, gen):
        super().__init__()
        self.a = nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                           generator=gen)
        self.b = nn.Conv2d(4, 4, 2, padding="same", groups=2, generator=gen)
        self.c = nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False, generator=gen)

    def forward(self, x):
        h = self.c(self.b(self.a(x)))
        h = F.max_pool2d(h, (2, 3), stride=(1, 2), padding=1, dilation=(2, 1),
                         ceil_mode=True)
        h = F.avg_pool2d(h, 2, padding=1, ceil_mode=True, count_include_pad=False)
        return F.adaptive_avg_pool2d(h, (2, 1)), F.adaptive_avg_pool2d(h, 1)


def test_conv_and_pooling_arguments_match_onnxruntime(tmp_path):
    model = ConvArguments(fw.Generator(4)).eval()
    path = str(tmp_path / "conv.onnx")
    fw.onnx.export(model, fw.randn(3, 2, 13, 12), path)
    nodes = [n.op_type for n in onnx.load(path).graph.node]
    assert nodes.count("Conv") == 3 and "GlobalAveragePool" in nodes
    _check_against_onnxruntime(model, path, (2, 13, 12))
    loaded = fw.onnx.load(path)  # and back: "same" comes in as asymmetric pads
    x = fw.randn(4, 2, 13, 12, generator=fw.Generator(8))
    for ours, back in zip(_ours(model, x), _ours(loaded, x), strict=True):
        np.testing.assert_allclose(back, ours, rtol=1e-6, atol=1e-6)


class Padded(nn.Module):
    """Conv2d in every non-zero padding mode, and F.pad cropping in each mode."""

    def __init__(self, gen):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", generator=gen),
            nn.Conv2d(3, 3, (2, 3), padding="same", padding_mode="replicate", generator=gen),
            nn.Conv2d(3, 2, 3, padding=(2, 1), padding_mode="circular", generator=gen))

    def forward(self, x):
        x = self.convs(x)
        return (F.pad(x, (-1, 2, 1, -2), mode="reflect"),
                F.pad(x, (3, -2, -1, 0), mode="replicate"),
                F.pad(x, (-2, 3, 1, -1), mode="circular"),
                F.pad(x, (1, -1, 0, 2, 1, 0), value=0.5))


def test_padding_modes_match_onnxruntime_and_load_back(tmp_path):
    model = Padded(fw.Generator(6)).eval()
    path = str(tmp_path / "pad.onnx")
    fw.onnx.export(model, fw.randn(3, 2, 6, 7), path)
    graph = onnx.load(path).graph
    modes = sorted(a.s.decode() for n in graph.node if n.op_type == "Pad"
                   for a in n.attribute if a.name == "mode")
    assert modes == ["constant", "edge", "edge", "reflect", "reflect", "wrap", "wrap"]
    _check_against_onnxruntime(model, path, (2, 6, 7))
    loaded = fw.onnx.load(path)
    x = fw.randn(4, 2, 6, 7, generator=fw.Generator(8))
    for ours, back in zip(_ours(model, x), _ours(loaded, x), strict=True):
        np.testing.assert_allclose(back, ours, rtol=1e-6, atol=1e-6)
    with pytest.raises(fw.onnx.OnnxError, match=r"circular padding before opset 19 .* opset "
                                                r"18\) has no ONNX mapping \(used in module "
                                                r"'convs.2' \(Conv2d\)\)"):
        fw.onnx.export(model, fw.randn(3, 2, 6, 7), str(tmp_path / "old.onnx"), opset=18)


def test_gelu_before_opset_20_is_the_erf_form(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.GELU()).eval()
    path = str(tmp_path / "gelu.onnx")
    fw.onnx.export(model, fw.randn(2, 4), path, opset=18)
    assert "Erf" in {n.op_type for n in onnx.load(path).graph.node}
    _check_against_onnxruntime(model, path, (4,))


def test_static_batch_keeps_the_example_shape(tmp_path):
    model = mlp(generator=fw.Generator(0)).eval()
    path = str(tmp_path / "static.onnx")
    fw.onnx.export(model, fw.randn(2, 1, 28, 28), path, dynamic_batch=False)
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 1, 28, 28]
    _check_against_onnxruntime(model, path, (1, 28, 28), batches=(2,))


class _Unmapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return self.head(x)[:, 0]  # basic indexing has no ONNX mapping


def test_unmapped_op_names_the_op_and_module_and_writes_nothing(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), _Unmapped())
    path = tmp_path / "bad.onnx"
    with pytest.raises(fw.onnx.OnnxError) as info:
        fw.onnx.export(model, fw.randn(2, 4), str(path))
    message = str(info.value)
    assert "StridedIndex" in message and "module '1' (_Unmapped)" in message
    assert "\n" not in message
    assert os.listdir(tmp_path) == []
    assert "forward" not in model[1].__dict__  # the tracing wrappers are gone


def test_bad_arguments_are_clear_errors(tmp_path):
    model = nn.Linear(4, 3)
    with pytest.raises(fw.onnx.OnnxError, match="example_input"):
        fw.onnx.export(model, np.zeros((2, 4)), str(tmp_path / "a.onnx"))
    with pytest.raises(fw.onnx.OnnxError, match="opset 9"):
        fw.onnx.export(model, fw.randn(2, 4), str(tmp_path / "a.onnx"), opset=9)
    with pytest.raises(fw.onnx.OnnxError, match="does not exist"):
        fw.onnx.export(model, fw.randn(2, 4), str(tmp_path / "no" / "a.onnx"))
    with pytest.raises(fw.onnx.OnnxError, match="output_names"):
        fw.onnx.export(model, fw.randn(2, 4), str(tmp_path / "a.onnx"),
                       output_names=["a", "b"])
    assert os.listdir(tmp_path) == []


def test_observer_is_off_outside_export():
    from framework.autograd import engine
    assert engine.get_observer() is None
    seen = []
    with engine.observe(lambda cls, args, outs: seen.append((cls.__name__, len(outs)))):
        (fw.ones(2) + 1).sum()
        fw.ones(2) < 3
    assert engine.get_observer() is None
    assert [name for name, _ in seen] == ["Binary", "Sum", "Compare"]


def test_onnx_is_optional():
    """Importing framework does not import onnx; without it, fw.onnx says what to install."""
    code = ("import sys; import framework as fw; assert 'onnx' not in sys.modules\n"
            "sys.modules['onnx'] = None\n"
            "try:\n"
            "    fw.onnx.export(fw.nn.Linear(2, 2), fw.ones(1, 2), 'never.onnx')\n"
            "except fw.onnx.OnnxError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert "pip install 'numbagrad[onnx]'" in out
    assert not (Path(__file__).resolve().parents[2] / "never.onnx").exists()


def test_batch_folded_into_rows_stays_dynamic(tmp_path):
    """Linear on (N, T, F) reshapes to (N*T, F) and back: both reshapes follow N."""
    model = nn.Sequential(nn.Linear(4, 3, generator=fw.Generator(0)), nn.Tanh()).eval()
    path = str(tmp_path / "rows.onnx")
    fw.onnx.export(model, fw.randn(2, 5, 4), path)
    _check_against_onnxruntime(model, path, (5, 4), batches=(2, 3, 7))


class _InPlace(nn.Module):
    def forward(self, x):
        y = x * 2
        y += 1
        row = fw.zeros(x.shape[0], 1, dtype=fw.float64)
        row.copy_(y.sum(1, keepdim=True))  # a cast and an overwrite
        return y * row.float()


def test_in_place_updates_are_traced(tmp_path):
    model = _InPlace()
    path = str(tmp_path / "inplace.onnx")
    fw.onnx.export(model, fw.randn(3, 4), path)
    _check_against_onnxruntime(model, path, (4,), batches=(3,))


class _TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 2, generator=fw.Generator(0))

    def forward(self, a, b):
        joined = fw.cat([a, b * 2], 1)
        return self.fc(joined), joined.sum(1)


def test_several_inputs_and_outputs_keep_their_names(tmp_path):
    model = _TwoInputs()
    path = str(tmp_path / "two.onnx")
    fw.onnx.export(model, (fw.randn(2, 3), fw.randn(2, 2)), path, input_names=["a", "b"],
                   output_names=["logits", "total"])
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["a", "b"]
    assert [o.name for o in session.get_outputs()] == ["logits", "total"]
    a, b = fw.randn(4, 3), fw.randn(4, 2)
    theirs = session.run(None, {"a": a.numpy(), "b": b.numpy()})
    loaded = fw.onnx.load(path)
    for got in (_ours(model, a, b), _ours(loaded, a, b)):
        for ours, ref in zip(got, theirs, strict=True):
            np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
