"""Inference of the command-line CNN loaded from ONNX: numbagrad vs onnxruntime, CPU.

    PYTHONPATH=$PWD python bench/onnx_inference.py [--batch 64] [--threads N] [--repeat 7]

The CNN (random weights: speed does not depend on them) is exported with
``fw.onnx.export`` and then run three ways on one batch, interleaved round-robin by
``framework.benchmark.core.run_case``: the file loaded by ``fw.onnx.load``, the native
numbagrad module, and an onnxruntime CPU session with the same thread count.
"""
import argparse
import os
import statistics
import tempfile

import numpy as np
import onnxruntime as ort

import framework as fw
from framework.benchmark.core import Case, run_case
from framework.training.models import cnn


def _cases(batch, threads):
    model = cnn(generator=fw.Generator(0)).eval()
    x = np.random.default_rng(0).standard_normal((batch, 1, 28, 28)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cnn.onnx")
        fw.onnx.export(model, fw.tensor(x[:2]), path)
        loaded = fw.onnx.load(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    xt = fw.tensor(x)

    def ours(module):
        def run():
            with fw.no_grad():
                return module(xt).numpy()
        return run

    want = session.run(None, {"input": x})[0]
    np.testing.assert_allclose(ours(loaded)(), want, rtol=1e-4, atol=1e-4)
    return Case("onnx", f"CNN inference, batch {batch}",
                {"numbagrad": ours(loaded), "numbagrad native": ours(model),
                 "onnxruntime": lambda: session.run(None, {"input": x})[0]})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    fw.set_num_threads(args.threads)
    result = run_case(_cases(args.batch, args.threads), repeat=args.repeat)
    ref = statistics.median(result.times["onnxruntime"])
    print(f"{result.case.name}, {args.threads} threads, onnxruntime {ort.__version__}")
    for impl, times in result.times.items():
        med = statistics.median(times)
        print(f"  {impl:18s} min {min(times) * 1e3:7.2f} ms  median {med * 1e3:7.2f} ms  "
              f"ratio to onnxruntime {med / ref:.2f}")


if __name__ == "__main__":
    main()
