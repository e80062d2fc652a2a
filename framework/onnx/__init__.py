"""ONNX export and import: ``export(model, example, path)`` and ``load(path)``.

Export traces the model's ops through the observer slot of ``Function.apply`` and
maps each op to ONNX nodes (``export.EMITTERS``); import maps each ONNX node back to
our functional ops (``load.NODES``) inside a ``Module``, so a loaded model runs on the
CPU and CUDA kernels alike. The ``onnx`` package (``pip install 'numbagrad[onnx]'``)
is imported only when one of these functions runs.
"""
from .errors import OnnxError
from .export import export
from .load import OnnxModule, load

__all__ = ["OnnxError", "OnnxModule", "export", "load"]
