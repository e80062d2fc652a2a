"""The ``numbagrad`` command line."""
import argparse
import sys

from .command import CommandError


def _info(args):
    import numba
    import numpy

    import framework as fw
    if args.threads:
        fw.set_num_threads(args.threads)
    print(f"numbagrad {fw.__version__}")
    print(f"numba {numba.__version__}, numpy {numpy.__version__}")
    print(f"threads: {fw.get_num_threads()} (of {numba.config.NUMBA_NUM_THREADS})")
    # A real forward and backward pass, so `info` also proves the kernels compile here.
    x = fw.randn(64, 32, generator=fw.Generator(0))
    w = (fw.randn(10, 32, generator=fw.Generator(1)) * 0.1).requires_grad_()
    loss = fw.nn.functional.log_softmax(fw.nn.functional.linear(x, w), 1).mean()
    loss.backward()
    print(f"self-check: forward/backward ok (loss {loss.item():.4f}, "
          f"grad norm {(w.grad * w.grad).sum().sqrt().item():.4f})")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line naming the flag (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(
        prog="numbagrad",
        description="numbagrad: define-by-run tensors and autograd on Numba kernels.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    info = sub.add_parser("info", help="versions, thread count, and a kernel self-check")
    info.add_argument("--threads", type=int, default=None, help="threads for kernels and BLAS")
    info.set_defaults(run=_info)
    from .training import cli as train_cli
    train_cli.add_parser(sub)
    from .benchmark import cli as bench_cli
    bench_cli.add_parser(sub)
    from .onnx import cli as export_cli
    export_cli.add_parser(sub)
    return parser


def _version():
    from framework import __version__
    return f"numbagrad {__version__}"


def main(argv=None):
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, RuntimeError, OSError, CommandError) as exc:
        print(f"numbagrad {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
