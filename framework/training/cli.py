"""``numbagrad train``: train the MLP or the CNN on MNIST-format data."""
import json
import math
import os
import signal
import sys

from .. import io as fw_io
from ..command import CommandError, require_device, require_matplotlib, require_output_dirs
from ..data import MNIST
from ..device import Device
from ..nn import functional as F
from ..optim import SGD, Adam, AdamW
from ..progress import Progress
from ..random import Generator
from ..threads import set_num_threads
from . import distributed as data_parallel
from .checkpoint import read_checkpoint, restore, save_checkpoint
from .loop import Stop, TrainState, fit
from .models import MODELS

INTERRUPT_PATH = "numbagrad-interrupted.safetensors"


def _positive_int(text):
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _nonneg_float(text):
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def add_parser(sub):
    p = sub.add_parser("train", help="train a model on MNIST-format data",
                       description="Train the seed's MLP or a small CNN on the four MNIST IDX "
                                   "files. Defaults reproduce the seed: MLP, SGD lr 0.01, "
                                   "batch 64, 3 epochs.")
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument("--epochs", type=_positive_int, default=3)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--lr", type=_nonneg_float, default=None,
                   help="learning rate (default 0.01 for sgd, 0.001 for adam/adamw)")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd")
    p.add_argument("--momentum", type=_nonneg_float, default=0.0)
    p.add_argument("--weight-decay", type=_nonneg_float, default=None,
                   help="default 0 (sgd, adam) or 0.01 (adamw)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="threads for kernels and BLAS (default: all cores)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--data-dir", default=None,
                   help="folder with the four IDX files (default: $NUMBAGRAD_DATA/mnist or "
                        "~/.cache/numbagrad/mnist)")
    p.add_argument("--download", action="store_true", help="download missing MNIST files")
    p.add_argument("--out", default=None, help="write a checkpoint (safetensors) here")
    p.add_argument("--resume", default=None, help="continue from this checkpoint")
    p.add_argument("--max-steps", type=_positive_int, default=None,
                   help="stop when the global step count reaches N")
    p.add_argument("--metrics-json", default=None, help="write per-epoch metrics here")
    p.add_argument("--plot", default=None, help="draw loss and accuracy curves to a PNG")
    p.add_argument("--no-compile", action="store_true",
                   help="run the training step eagerly, op by op (by default it is "
                        "recorded once and replayed with fw.compile; same results)")
    p.add_argument("--nproc", type=_positive_int, default=None,
                   help="train data-parallel on N processes (starts mpiexec; "
                        "--batch-size is per process)")
    p.set_defaults(run=run, train_parser=p)
    return p


def _validate(args):
    require_device(args.device)
    if args.resume is not None and not os.path.isfile(args.resume):
        raise CommandError(f"--resume {args.resume}: no such file")
    require_output_dirs({"--out": args.out, "--metrics-json": args.metrics_json,
                         "--plot": args.plot})
    if args.plot is not None:
        require_matplotlib("--plot")


def _config(args):
    lr = args.lr if args.lr is not None else (0.01 if args.optimizer == "sgd" else 1e-3)
    wd = args.weight_decay if args.weight_decay is not None else (
        0.01 if args.optimizer == "adamw" else 0.0)
    return {"model": args.model, "optimizer": args.optimizer, "lr": lr, "momentum":
            args.momentum, "weight_decay": wd, "batch_size": args.batch_size,
            "seed": args.seed}


def _optimizer(config, params):
    name = config["optimizer"]
    if name == "sgd":
        return SGD(params, lr=config["lr"], momentum=config["momentum"],
                   weight_decay=config["weight_decay"])
    cls = Adam if name == "adam" else AdamW
    return cls(params, lr=config["lr"], weight_decay=config["weight_decay"])


def run(args):
    if args.nproc is not None:
        return data_parallel.launch(args.nproc,
                                    data_parallel.forwarded_argv(args.train_parser, args))
    _validate(args)
    if args.threads is not None:
        set_num_threads(args.threads)
    job = data_parallel.setup(args.threads)
    with job.fail_together():
        return _run(args, job)


def _run(args, job):
    resume = None
    if args.resume is not None:
        try:
            resume = read_checkpoint(args.resume)
        except (ValueError, OSError) as exc:
            raise CommandError(f"--resume: {exc}") from None
    config = resume[1]["config"] if resume else _config(args)
    train_set = MNIST(args.data_dir, train=True, download=args.download)
    test_set = MNIST(args.data_dir, train=False, download=args.download)
    device = Device(args.device)
    init_gen, data_gen = Generator(config["seed"]), Generator(config["seed"] + 1)
    model = job.wrap(MODELS[config["model"]](generator=init_gen).to(device))
    optimizer = _optimizer(config, model.parameters())
    train_loader = job.train_loader(train_set, config["batch_size"], data_gen, device)
    test_loader = job.eval_loader(test_set, 1000, device)
    state = TrainState()
    if resume:
        state = restore(*resume, model, optimizer, generator=data_gen)
        if job.is_main:
            print(f"resuming {args.resume}: epoch {state.epoch + 1}, "
                  f"step {state.global_step}")
    if job.is_main:
        ranks = f" on {job.size} ranks" if job.distributed else ""
        print(f"training {config['model']} with {config['optimizer']} (lr {config['lr']}, "
              f"batch {config['batch_size']}{ranks}) for {args.epochs} epochs on "
              f"{len(train_set)} images from {train_set.root}")
    return _train(args, config, model, optimizer, train_loader, test_loader, state, data_gen,
                  job)


def _train(args, config, model, optimizer, train_loader, test_loader, state, data_gen, job):
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    bar = {}

    def on_step(st, loss):
        if "p" not in bar:
            bar["p"] = Progress(len(train_loader), f"epoch {st.epoch + 1}/{args.epochs}")
        rate = st.epoch_samples / max(st.epoch_seconds, 1e-9)
        bar["p"].update(st.step_in_epoch, f"loss {loss:.4f}  {rate:,.0f} samples/s")

    def on_epoch(st, metrics):
        if "p" in bar:
            bar.pop("p").close()
        _report(metrics)
        if args.metrics_json:
            _write_metrics(args.metrics_json, st.history, config)
        if args.out:
            save_checkpoint(args.out, model, optimizer, st, config, generator=data_gen)

    try:
        # Rank 0 alone reports and writes files; the others only train.
        fit(model, F.cross_entropy, optimizer, train_loader, test_loader, args.epochs,
            state=state, max_steps=args.max_steps, should_stop=lambda: bool(interrupted),
            on_step=on_step if job.is_main else None,
            on_epoch=on_epoch if job.is_main else None, reduce_sums=job.sum_reducer(),
            compile=not args.no_compile)
    except Stop:
        if "p" in bar:
            bar.pop("p").close()
        if not job.is_main:
            return 130
        path = args.out or INTERRUPT_PATH
        save_checkpoint(path, model, optimizer, state, config, generator=data_gen)
        print(f"interrupted at epoch {state.epoch + 1}, step {state.global_step}; "
              f"checkpoint written to {path} (continue with --resume {path})", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.plot and job.is_main:
        _plot(args.plot, state.history)
    return 0


def _report(m):
    line = (f"epoch {m['epoch']}: train loss {m['train_loss']:.4f} "
            f"({m['train_seconds']:.1f} s)")
    if "test_accuracy" in m:
        line += (f", test loss {m['test_loss']:.4f}, "
                 f"test accuracy {100 * m['test_accuracy']:.1f}%")
    if not m["complete"]:
        line += f" [stopped after {m['steps']} steps]"
    print(line, flush=True)


def _write_metrics(path, history, config):
    data = json.dumps({"config": config, "epochs": history}, indent=1).encode()
    fw_io.write_atomic(path, data)


def _plot(path, history):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [m["epoch"] for m in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [m["train_loss"] for m in history], "o-", label="train")
    if history and "test_loss" in history[0]:
        ax1.plot(epochs, [m["test_loss"] for m in history], "o-", label="test")
        ax2.plot(epochs, [100 * m["test_accuracy"] for m in history], "o-")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss", xticks=epochs)
    ax1.legend()
    ax2.set(xlabel="epoch", ylabel="%", title="test accuracy", xticks=epochs)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    fw_io.write_atomic(path, buf.getvalue())


