"""fw.onnx.load: PyTorch's exports and ours run on our ops; bad files are one clear line."""
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import framework as fw
from framework.training.models import cnn

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _run(model, x):
    with fw.no_grad():
        out = model(fw.tensor(x))
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


@pytest.mark.parametrize("name,outputs", [("torch_mlp", ["output"]),
                                          ("torch_cnn", ["output"]),
                                          ("torch_ops", ["probs", "peak"])])
def test_pytorch_exports_match_pytorch(name, outputs):
    """Made by make_fixtures.py: torch.onnx.export of small networks, and their outputs."""
    model = fw.onnx.load(FIXTURES / f"{name}.onnx")
    want = np.load(FIXTURES / f"{name}.npz")
    for batch in (2, 3):
        got = _run(model, want[f"input_{batch}"])
        for out_name, value in zip(outputs, got, strict=True):
            np.testing.assert_allclose(value, want[f"{out_name}_{batch}"], rtol=1e-5,
                                       atol=1e-5)


def test_loaded_module_prints_lists_initializers_and_switches_modes():
    model = fw.onnx.load(FIXTURES / "torch_cnn.onnx")
    text = repr(model)
    assert "OnnxModule(file='torch_cnn.onnx', opset=17" in text
    assert "Conv x2" in text and "BatchNormalization" in text
    graph = onnx.load(FIXTURES / "torch_cnn.onnx").graph
    assert set(model.state_dict()) >= {i.name for i in graph.initializer}
    assert "bn.running_mean" in model.state_dict()
    assert not model.training and model.train().training and not model.eval().training


def test_our_export_round_trips(tmp_path):
    model = cnn(generator=fw.Generator(2)).eval()
    path = tmp_path / "cnn.onnx"
    fw.onnx.export(model, fw.randn(2, 1, 28, 28), path)
    loaded = fw.onnx.load(path)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(_run(loaded, x)[0], _run(model, x)[0], rtol=1e-5, atol=1e-5)
    assert set(loaded.state_dict()) >= set(model.state_dict())


def _save(tmp_path, nodes, initializers=(), name="model.onnx", in_shape=(1, 2, 5, 5)):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 4)],
        [numpy_helper.from_array(a, n) for n, a in initializers])
    path = tmp_path / name
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), path)
    return path


def _one_line_error(path, match):
    with pytest.raises(fw.onnx.OnnxError) as info:
        fw.onnx.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert match in message, message
    return message


def test_garbage_truncated_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf \xff\xfe" * 8)
    _one_line_error(garbage, "is not")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    _one_line_error(text, "is not")
    whole = (FIXTURES / "torch_cnn.onnx").read_bytes()
    for cut in (10, len(whole) // 2, len(whole) - 3):
        truncated = tmp_path / f"cut{cut}.onnx"
        truncated.write_bytes(whole[:cut])
        _one_line_error(truncated, "is not")
    _one_line_error(tmp_path / "missing.onnx", "no such file")


def test_unsupported_op_names_file_node_and_op(tmp_path):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["h"], name="first"),
                            helper.make_node("Erf", ["h"], ["y"], name="the_erf")])
    message = _one_line_error(path, "node 'the_erf' (Erf)")
    assert "op Erf is not supported" in message


def test_unsupported_attributes_name_the_node_and_attribute(tmp_path):
    w = np.ones((3, 2, 3, 3), np.float32)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv0", pads=[1, 1, 0, 0])
    message = _one_line_error(_save(tmp_path, [conv], [("w", w)], "pads.onnx"), "conv0")
    assert "pads=[1, 1, 0, 0]" in message and "asymmetric" in message
    gelu = helper.make_node("Gelu", ["x"], ["y"], name="g", approximate="tanh")
    assert "approximate" in _one_line_error(_save(tmp_path, [gelu], name="gelu.onnx"), "'g'")
    pool = helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2],
                            storage_order=1)
    assert "storage_order" in _one_line_error(_save(tmp_path, [pool], name="mp.onnx"), "mp")


def test_conv_attributes_pass_through(tmp_path):
    """Strides, pads and bias reach F.conv2d; a value it rejects names the node at run
    time (dilation 2 until conv2d takes it)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c", strides=[2, 2],
                            pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    model = fw.onnx.load(_save(tmp_path, [conv], [("w", w), ("b", b)]))
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    want = fw.nn.functional.conv2d(fw.tensor(x), fw.tensor(w), fw.tensor(b), 2, 1).numpy()
    np.testing.assert_allclose(_run(model, x)[0], want, rtol=1e-6)
    dilated = helper.make_node("Conv", ["x", "w"], ["y"], name="dil", dilations=[2, 2])
    model = fw.onnx.load(_save(tmp_path, [dilated], [("w", w)], "dilated.onnx"))
    try:
        got = _run(model, x)[0]
    except fw.onnx.OnnxError as exc:
        assert "node 'dil' (Conv)" in str(exc) and "dilation" in str(exc)
    else:  # once conv2d takes dilation: it equals a zero-spread 5x5 kernel
        spread = np.zeros((3, 2, 5, 5), np.float32)
        spread[:, :, ::2, ::2] = w
        want = fw.nn.functional.conv2d(fw.tensor(x), fw.tensor(spread)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_average_pool_without_padding_counted(tmp_path):
    """ONNX's default count_include_pad=0 with padding: passed to F.avg_pool2d, or a
    load-time error naming the attribute while avg_pool2d cannot take it."""
    pool = helper.make_node("AveragePool", ["x"], ["y"], name="ap", kernel_shape=[3, 3],
                            pads=[1, 1, 1, 1], strides=[2, 2])
    path = _save(tmp_path, [pool])
    try:
        model = fw.onnx.load(path)
    except fw.onnx.OnnxError as exc:
        assert "node 'ap' (AveragePool)" in str(exc) and "count_include_pad" in str(exc)
        return
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5)).astype(np.float32)
    avg = fw.nn.functional.avg_pool2d
    counted = avg(fw.tensor(x), 3, 2, 1).numpy()
    share = avg(fw.ones(1, 2, 5, 5), 3, 2, 1).numpy()  # fraction of each window inside
    np.testing.assert_allclose(_run(model, x)[0], counted / share, rtol=1e-5)


def test_pad_nodes_of_other_exporters(tmp_path):
    """Pad with axes, a constant value and a Slice after it, against np.pad; modes and
    pads our F.pad has no equivalent for are errors naming the node."""
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5)).astype(np.float32)
    ints = [("w_only", np.array([2, 1], np.int64)), ("axes", np.array([-1], np.int64)),
            ("all", np.array([0, 1, 1, 0, 0, 0, 2, 1], np.int64)),
            ("value", np.array(1.5, np.float32)), ("starts", np.array([1], np.int64)),
            ("ends", np.array([-1], np.int64)), ("slice_axes", np.array([3], np.int64))]
    nodes = [helper.make_node("Pad", ["x", "w_only", "", "axes"], ["h"], mode="reflect"),
             helper.make_node("Pad", ["h", "all", "value"], ["p"], mode="constant"),
             helper.make_node("Slice", ["p", "starts", "ends", "slice_axes"], ["y"])]
    model = fw.onnx.load(_save(tmp_path, nodes, ints))
    want = np.pad(x, ((0, 0), (0, 0), (0, 0), (2, 1)), mode="reflect")
    want = np.pad(want, ((0, 0), (1, 0), (1, 2), (0, 1)), constant_values=1.5)[..., 1:-1]
    np.testing.assert_array_equal(_run(model, x)[0], want)
    cases = [("edge", [0, 0, -1, 0, 0, 0, 0, 0], "negative pads"),
             ("mirror", [0, 0, 1, 0, 0, 0, 0, 0], "mode='mirror'")]
    for i, (mode, pads, match) in enumerate(cases):
        node = helper.make_node("Pad", ["x", "pads"], ["y"], name="pad0", mode=mode)
        path = _save(tmp_path, [node], [("pads", np.array(pads, np.int64))], f"p{i}.onnx")
        _one_line_error(path, match)
