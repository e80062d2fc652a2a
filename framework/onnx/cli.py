"""``numbagrad export``: a trained checkpoint of the command-line models as ONNX."""
import os

from ..command import CommandError, require_output_dirs
from .errors import OnnxError


def add_parser(sub):
    p = sub.add_parser(
        "export", help="export a trained checkpoint to ONNX",
        description="Write the MLP or CNN of a `numbagrad train --out` checkpoint as an ONNX "
                    "file (weights as initializers, eval mode, a symbolic batch dimension), "
                    "for onnxruntime, Netron or fw.onnx.load. Needs the onnx package: "
                    "pip install 'numbagrad[onnx]'.")
    p.add_argument("--model", choices=("mlp", "cnn"), default=None,
                   help="the network (default: the one the checkpoint was trained as)")
    p.add_argument("--checkpoint", required=True,
                   help="a checkpoint written by `numbagrad train --out`, or a safetensors "
                        "file of the model's weights (then --model is required)")
    p.add_argument("--out", required=True, help="the ONNX file to write")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 21)")
    p.add_argument("--static-batch", type=int, default=None, metavar="N",
                   help="fix the batch dimension to N instead of a symbolic one")
    p.set_defaults(run=run)
    return p


def _model_name(args):
    """The --model, checked against the one the checkpoint records."""
    from ..io import load_metadata
    from ..training.checkpoint import read_checkpoint
    try:
        recorded = read_checkpoint(args.checkpoint)[1]["config"]["model"] \
            if "numbagrad" in load_metadata(args.checkpoint) else None
    except (ValueError, OSError, KeyError) as exc:
        raise CommandError(f"--checkpoint {args.checkpoint}: {exc}") from None
    if args.model is None and recorded is None:
        raise CommandError(f"--checkpoint {args.checkpoint} holds weights only; say which "
                           f"network they are for with --model mlp|cnn")
    if args.model is not None and recorded is not None and args.model != recorded:
        raise CommandError(f"--model {args.model}: the checkpoint {args.checkpoint} was "
                           f"trained as {recorded}")
    return args.model or recorded


def _validate(args):
    if not os.path.isfile(args.checkpoint):
        raise CommandError(f"--checkpoint {args.checkpoint}: no such file")
    require_output_dirs({"--out": args.out})
    if args.static_batch is not None and args.static_batch < 1:
        raise CommandError(f"--static-batch must be at least 1, got {args.static_batch}")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise CommandError("export needs the onnx package: pip install 'numbagrad[onnx]'") \
            from None


def run(args):
    from .. import creation
    from ..training.checkpoint import model_weights
    from ..training.models import MODELS
    from .export import export
    _validate(args)
    name = _model_name(args)
    model = MODELS[name]()
    try:
        model.load_state_dict(model_weights(args.checkpoint))
    except RuntimeError as exc:
        raise CommandError(f"--checkpoint {args.checkpoint} does not fit --model {name}: "
                           + " ".join(str(exc).split())) from None
    model.eval()
    batch = args.static_batch or 1
    try:
        proto = export(model, creation.zeros(batch, 1, 28, 28), args.out,
                       dynamic_batch=args.static_batch is None, opset=args.opset)
    except OnnxError as exc:
        raise CommandError(str(exc)) from None
    shape = "batch" if args.static_batch is None else str(batch)
    print(f"wrote {args.out}: {name}, {len(proto.graph.node)} nodes, opset "
          f"{proto.opset_import[0].version}, input 'input' ({shape}, 1, 28, 28) -> output "
          f"'output' ({shape}, 10)")
    return 0
