"""``numbagrad export``: checkpoints of the command-line models to ONNX, and its errors."""
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import framework as fw
from framework.cli import main
from framework.training.checkpoint import save_checkpoint
from framework.training.loop import TrainState
from framework.training.models import cnn, mlp


@pytest.fixture
def cnn_checkpoint(tmp_path):
    model = cnn(generator=fw.Generator(4))
    optimizer = fw.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "run.safetensors"
    save_checkpoint(str(path), model, optimizer, TrainState(), {"model": "cnn"})
    return model, path


def test_export_a_training_checkpoint(tmp_path, cnn_checkpoint, capsys):
    model, checkpoint = cnn_checkpoint
    out = tmp_path / "cnn.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(out), full_check=True)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    with fw.no_grad():
        want = model.eval()(fw.tensor(x)).numpy()
    np.testing.assert_allclose(session.run(None, {"input": x})[0], want, rtol=1e-5,
                               atol=1e-5)


def test_export_weights_only_needs_model_and_static_batch(tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    fw.save(mlp(generator=fw.Generator(1)).state_dict(), str(weights))
    out = tmp_path / "mlp.onnx"
    assert main(["export", "--checkpoint", str(weights), "--out", str(out)]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["export", "--model", "mlp", "--checkpoint", str(weights), "--out", str(out),
                 "--static-batch", "2"]) == 0
    dims = onnx.load(out).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 1, 28, 28]


def _fails(argv, capsys, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("numbagrad export: error: ")
    for needle in needles:
        assert needle in err, err


def test_errors_are_one_line_and_write_nothing(tmp_path, cnn_checkpoint, capsys):
    _, checkpoint = cnn_checkpoint
    out = str(tmp_path / "out.onnx")
    _fails(["export", "--model", "mlp", "--checkpoint", str(checkpoint), "--out", out],
           capsys, "trained as cnn")
    _fails(["export", "--checkpoint", str(tmp_path / "none.safetensors"), "--out", out],
           capsys, "no such file")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(bytes(range(7, 71)))
    _fails(["export", "--model", "cnn", "--checkpoint", str(garbage), "--out", out], capsys,
           "garbage.safetensors")
    _fails(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "x" / "o.onnx")],
           capsys, "does not exist")
    _fails(["export", "--checkpoint", str(checkpoint), "--out", out, "--opset", "7"], capsys,
           "opset 7")
    weights = tmp_path / "mlp.safetensors"
    fw.save(mlp().state_dict(), str(weights))
    _fails(["export", "--model", "cnn", "--checkpoint", str(weights), "--out", out], capsys,
           "does not fit --model cnn")
    assert sorted(os.listdir(tmp_path)) == ["garbage.safetensors", "mlp.safetensors",
                                            "run.safetensors"]


def test_export_help_explains_it(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    assert "--checkpoint" in text and "ONNX" in text and "numbagrad[onnx]" in text
