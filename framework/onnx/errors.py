"""The one error type of ``framework.onnx`` and the guarded import of the ``onnx`` package."""


class OnnxError(ValueError):
    """A model that cannot be exported, or a file that cannot be loaded; one line, naming
    the file, the node and the op where they are known."""


def require_onnx(what):
    """The ``onnx`` package, or a clear error saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise OnnxError(f"{what} needs the onnx package: pip install 'numbagrad[onnx]'") \
            from None
    return onnx
