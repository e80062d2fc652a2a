"""Reference implementations: which are requested, installed, or missing and why."""


def torch_module(against):
    """(torch or None, reason it is missing or None)."""
    if "torch" not in against:
        return None, None
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed (pip install torch)"
    return torch, None


def add_refs(case, against, torch_impl=None, numpy_impl=None, torch_missing=None):
    """Attach the requested references to ``case`` (noting those that cannot run)."""
    if "torch" in against:
        if torch_impl is not None:
            case.impls["torch"] = torch_impl
        elif torch_missing:
            case.missing["torch"] = torch_missing
    if "numpy" in against and numpy_impl is not None:
        case.impls["numpy"] = numpy_impl
    return case
