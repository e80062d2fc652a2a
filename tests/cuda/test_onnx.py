"""ONNX on the device: a loaded model runs on the CUDA kernels; a CUDA model exports."""
import numpy as np
import onnxruntime as ort

import framework as fw
from framework import nn


def _tiny_cnn():
    gen = fw.Generator(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, generator=gen), nn.BatchNorm2d(2),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(2 * 3 * 3, 3, generator=gen), nn.LogSoftmax(1)).eval()


def test_loaded_model_runs_on_cuda_and_matches_cpu(tmp_path, rng):
    path = tmp_path / "tiny.onnx"
    fw.onnx.export(_tiny_cnn(), fw.randn(2, 1, 6, 6), path)
    model = fw.onnx.load(path)
    x = rng.standard_normal((3, 1, 6, 6)).astype(np.float32)
    with fw.no_grad():
        want = model(fw.tensor(x)).numpy()
        model.to("cuda")
        assert all(p.device == fw.device("cuda") for p in model.parameters())
        got = model(fw.tensor(x, device="cuda"))
    assert got.device == fw.device("cuda")
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-5, atol=1e-5)
    loaded = fw.onnx.load(path, device="cuda")
    assert {p.device for p in loaded.parameters()} == {fw.device("cuda")}


def test_model_on_cuda_exports(tmp_path, rng):
    model = _tiny_cnn().to("cuda")
    path = str(tmp_path / "cuda.onnx")
    fw.onnx.export(model, fw.randn(2, 1, 6, 6).cuda(), path)
    x = rng.standard_normal((4, 1, 6, 6)).astype(np.float32)
    with fw.no_grad():
        want = model(fw.tensor(x, device="cuda")).cpu().numpy()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], want, rtol=1e-5, atol=1e-5)
