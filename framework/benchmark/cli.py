"""``numbagrad bench``: the benchmark suites as a command."""
import datetime
import json
import shlex
import sys

from .. import io as fw_io
from ..command import CommandError, require_device, require_matplotlib, require_output_dirs
from . import core, peaks, steal

SUITES = ("ops", "layers", "mnist", "startup")
GPU_SUITES = ("gpu",)  # run with --device cuda, where "all" means these


def add_parser(sub):
    p = sub.add_parser("bench", help="benchmark against PyTorch and NumPy",
                       description="Time numbagrad side by side with PyTorch eager and NumPy "
                                   "on the same inputs and thread count; report min and "
                                   "median, the ratio ours/reference, and a roofline column.")
    p.add_argument("--suite", default="all",
                   help=f"comma-separated suites of {', '.join(SUITES + GPU_SUITES)}, or all "
                        "(the default: the CPU suites, or with --device cuda the gpu suite)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for us, BLAS and PyTorch (default: all cores)")
    p.add_argument("--against", default="torch,numpy",
                   help="comma-separated references: torch, numpy (or 'none')")
    p.add_argument("--repeat", type=int, default=5, help="timed rounds per case")
    p.add_argument("--json", default=None, help="write results and machine facts here")
    p.add_argument("--plot", default=None, help="bar chart of the ratios (PNG)")
    p.add_argument("--markdown", default=None, help="write a RESULTS.md-style report here")
    p.add_argument("--data-dir", default=None, help="MNIST files for the mnist suite")
    p.add_argument("--download", action="store_true", help="download MNIST if missing")
    p.add_argument("--scale", type=float, default=1.0,
                   help="shrink the problem sizes (for quick checks); 1 = the real sizes")
    p.set_defaults(run=run)
    return p


def _suites(text, device):
    """The suites named by --suite (comma-separated, in order, each once), checked."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    if names == ["all"]:
        return GPU_SUITES if device == "cuda" else SUITES
    if "all" in names:
        raise CommandError(f"--suite: all runs every suite; name it alone, not in a list "
                           f"({text!r})")
    unknown = [s for s in names if s not in SUITES + GPU_SUITES]
    if unknown or not names:
        raise CommandError(f"--suite: unknown suite(s) {', '.join(unknown) or repr(text)}; "
                           f"choose from {', '.join(SUITES + GPU_SUITES)} or all")
    for suite in names:
        if (suite in GPU_SUITES) != (device == "cuda"):
            raise CommandError(f"--suite {suite} runs on --device "
                               f"{'cuda' if suite in GPU_SUITES else 'cpu'}, not {device}")
    return tuple(dict.fromkeys(names))


def _validate(args):
    require_device(args.device)
    suites = _suites(args.suite, args.device)
    if args.repeat < 1:
        raise CommandError(f"--repeat must be at least 1, got {args.repeat}")
    if not 0 < args.scale <= 1:
        raise CommandError(f"--scale must be in (0, 1], got {args.scale}")
    against = {a.strip() for a in args.against.split(",") if a.strip()} - {"none"}
    unknown = against - set(core.REFERENCES)
    if unknown:
        raise CommandError(f"--against: unknown reference(s) {', '.join(sorted(unknown))}; "
                         "use torch, numpy or none")
    require_output_dirs({"--json": args.json, "--plot": args.plot,
                         "--markdown": args.markdown})
    if args.plot is not None:
        require_matplotlib("--plot")
    return suites, against


def _set_threads(n, against):
    import framework as fw
    fw.set_num_threads(n)
    if "torch" in against:
        try:
            import torch
            torch.set_num_threads(n)
        except ImportError:
            pass


def build_cases(suites, against, args, threads):
    from . import gpu, layers, mnist, ops, startup
    out = []
    for suite in suites:
        if suite == "gpu":
            out += gpu.cases(against, args.data_dir, args.download, args.scale)
        elif suite == "ops":
            out += ops.cases(against, args.scale)
        elif suite == "layers":
            out += layers.cases(against, args.scale)
        elif suite == "mnist":
            out += mnist.cases(against, args.data_dir, args.download, args.scale)
        else:
            out += startup.cases(against, threads, args.scale)
    return out


def run(args, argv=None):
    import numba
    suites, against = _validate(args)
    threads = args.threads or numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        raise CommandError(f"--threads must be in [1, {numba.config.NUMBA_NUM_THREADS}], "
                         f"got {threads}")
    _set_threads(threads, against)
    facts = core.machine_facts(threads, args.device)
    print(f"numbagrad bench: {facts['cpu']}, {threads} threads; numba {facts['numba']}, "
          f"numpy {facts['numpy']}, torch {facts['torch'] or 'not installed'}"
          + (f"; GPU {facts['gpu']}" if facts.get("gpu") else ""), flush=True)
    measured = peaks.measure(args.scale)
    print(f"measured peaks: matmul {measured['matmul_gflops']:.1f} GFLOP/s, copy "
          f"{measured['copy_gbs']:.1f} GB/s", flush=True)
    cases = build_cases(suites, against, args, threads)
    for ref in sorted({r for c in cases for r in c.missing}):
        print(f"note: no {ref} column: {next(c.missing[ref] for c in cases if ref in c.missing)}")
    results = []
    # One /proc/stat snapshot per case: each case's end is the next one's start.
    run_start = mark = steal.read()
    for case in cases:
        results.append(core.run_case(case, repeat=args.repeat))
        now = steal.read()
        results[-1].stolen, mark = steal.fraction(mark, now), now
        doc = core.to_json(results[-1:], measured, facts, "", "")
        print("  " + " | ".join(core.rows(doc)[1])
              + f" | stolen: {steal.describe(results[-1].stolen)}", flush=True)
    facts["stolen"] = steal.fraction(run_start, mark)
    print(f"CPU time stolen by the hypervisor during the run: {steal.describe(facts['stolen'])}")
    command = "numbagrad bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[2:]))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = core.to_json(results, measured, facts, command, date)
    print()
    print(core.text_table(doc))
    if args.json:
        fw_io.write_atomic(args.json, json.dumps(doc, indent=1).encode())
    if args.markdown:
        fw_io.write_atomic(args.markdown, core.markdown(doc).encode())
    if args.plot:
        plot(doc, args.plot)
    return 0


def plot(doc, path):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{c['suite']}: {c['name'][:48]}" for c in doc["cases"]]
    refs = [r for r in core.REFERENCES if any(r in c["ratios"] for c in doc["cases"])]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(labels) + 1.5))
    height = 0.8 / max(len(refs), 1)
    for k, ref in enumerate(refs):
        ys = [i + k * height for i in range(len(labels))]
        ax.barh(ys, [c["ratios"].get(ref, 0) for c in doc["cases"]], height, label=f"vs {ref}")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([i + height * (len(refs) - 1) / 2 for i in range(len(labels))], labels,
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time ratio, numbagrad / reference (lower is better)")
    if refs:
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    fw_io.write_atomic(path, buf.getvalue())
