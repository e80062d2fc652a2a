"""The machinery of ``numbagrad bench``: cases, interleaved timing, ratios, roofline.

A case holds one callable per implementation ("numbagrad", "torch", "numpy"), each
doing the same work on the same inputs. The runner warms every implementation up,
then times them round-robin (so drift on a noisy machine hits all of them alike),
``repeat`` rounds, and reports min and median seconds per call. The headline figure
is ours / reference, lower is better. Each case also records the share of CPU time the
hypervisor stole while it ran (``steal.py``), the measure of how far to trust it.
"""
import os
import platform
import statistics
import time
from dataclasses import dataclass, field

from . import steal

OURS = "numbagrad"
REFERENCES = ("torch", "numpy")
SCHEMA = "numbagrad-bench-1"


@dataclass
class Case:
    suite: str
    name: str
    impls: dict                 # implementation -> callable doing one unit of work
    flops: float = 0.0          # per call, for GEMM-bound cases (roofline vs matmul peak)
    bytes: float = 0.0          # per call, for memory-bound cases (roofline vs copy)
    calibrate: bool = True      # repeat fast calls until a round takes min_time
    warmup: bool = True         # untimed calls per implementation first
    warmup_calls: int = 1       # 3 for a compiled step: warm-up, recording, first replay
    missing: dict = field(default_factory=dict)  # reference -> why it has no column


@dataclass
class Result:
    case: Case
    times: dict                 # implementation -> list of seconds per call
    metrics: dict               # implementation -> dict returned by its last call
    stolen: float = None        # share of CPU time the hypervisor took meanwhile (steal.py)

    def stats(self, impl):
        t = self.times[impl]
        return {"min_s": min(t), "median_s": statistics.median(t), "samples_s": t}

    def ratios(self):
        ours = statistics.median(self.times[OURS])
        return {ref: ours / statistics.median(self.times[ref])
                for ref in REFERENCES if ref in self.times}

    def roofline(self, peaks):
        best = min(self.times[OURS])
        if self.case.flops and peaks.get("matmul_gflops"):
            achieved = self.case.flops / best / 1e9
            return {"kind": "gemm", "achieved": achieved, "unit": "GFLOP/s",
                    "peak": peaks["matmul_gflops"], "fraction": achieved / peaks["matmul_gflops"]}
        if self.case.bytes and peaks.get("copy_gbs"):
            achieved = self.case.bytes / best / 1e9
            return {"kind": "memory", "achieved": achieved, "unit": "GB/s",
                    "peak": peaks["copy_gbs"], "fraction": achieved / peaks["copy_gbs"]}
        return None


def _calls_per_round(fn, min_time):
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time or number >= 1 << 16:
            return number
        number *= 2


def run_case(case, repeat=5, min_time=0.02, clock=time.perf_counter):
    """Time every implementation of ``case``, interleaved; returns a Result."""
    impls = case.impls
    numbers, metrics = {}, {}
    for name, fn in impls.items():
        if case.warmup:
            # Calibration must see steady-state calls: a compiled step's recording (and
            # the load of its generated code) would otherwise set one call per round.
            for _ in range(case.warmup_calls):
                metrics[name] = fn()
        numbers[name] = _calls_per_round(fn, min_time) if case.calibrate else 1
    times = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            start = clock()
            for _ in range(numbers[name]):
                out = fn()
            times[name].append((clock() - start) / numbers[name])
            metrics[name] = out
    return Result(case, times, {k: v for k, v in metrics.items() if isinstance(v, dict)})


def machine_facts(threads, device):
    facts = {"cpu": _cpu_model(), "cores": os.cpu_count(), "threads": threads,
             "device": device, "python": platform.python_version(),
             "platform": platform.platform()}
    for mod in ("numba", "numpy", "torch"):
        try:
            facts[mod] = __import__(mod).__version__
        except ImportError:
            facts[mod] = None
    if device == "cuda":
        import framework as fw
        facts["gpu"] = fw.cuda.get_device_name()
    return facts


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def to_json(results, peaks, facts, command, date):
    """The JSON document of a run (schema ``numbagrad-bench-1``)."""
    cases = []
    for r in results:
        cases.append({
            "suite": r.case.suite, "name": r.case.name,
            "times": {impl: r.stats(impl) for impl in r.times},
            "ratios": r.ratios(), "roofline": r.roofline(peaks),
            "metrics": r.metrics, "missing": r.case.missing, "stolen": r.stolen,
        })
    return {"schema": SCHEMA, "command": command, "date": date, "machine": facts,
            "peaks": peaks, "cases": cases}


def _fmt_time(seconds):
    if seconds is None:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def rows(doc):
    """Table rows (lists of strings) for the text and markdown reports."""
    header = ["suite", "case", "ours (median)", "torch", "numpy", "ours/torch", "ours/numpy",
              "roofline"]
    out = [header]
    for c in doc["cases"]:
        med = {k: v["median_s"] for k, v in c["times"].items()}
        ratio = c["ratios"]
        roof = c["roofline"]
        roof_s = (f"{roof['achieved']:.1f} {roof['unit']} = {100 * roof['fraction']:.0f}% of "
                  f"{'matmul peak' if roof['kind'] == 'gemm' else 'copy'}") if roof else ""
        name = c["name"]
        acc = c["metrics"].get(OURS, {}).get("test_accuracy")
        if acc is not None:
            name += f" (acc {100 * acc:.1f}%, loss {c['metrics'][OURS]['train_loss']:.3f})"
        out.append([c["suite"], name, _fmt_time(med.get(OURS)), _fmt_time(med.get("torch")),
                    _fmt_time(med.get("numpy")),
                    f"{ratio['torch']:.2f}" if "torch" in ratio else "n/a",
                    f"{ratio['numpy']:.2f}" if "numpy" in ratio else "n/a", roof_s])
    return out


def text_table(doc):
    table = rows(doc)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(doc):
    """bench/RESULTS.md-style report: command, date, machine, peaks, the table, notes."""
    m, p = doc["machine"], doc["peaks"]
    table = rows(doc)
    lines = [f"Command: `{doc['command']}`", "",
             f"Date: {doc['date']}. Machine: {m['cpu']}, {m['threads']} threads of "
             f"{m['cores']} cores; numba {m['numba']}, numpy {m['numpy']}, torch {m['torch']}"
             + (f"; GPU {m['gpu']}." if m.get("gpu") else "."),
             "",
             f"Measured peaks: matmul {p.get('matmul_gflops', 0):.1f} GFLOP/s "
             f"(float32 NumPy BLAS), copy {p.get('copy_gbs', 0):.1f} GB/s (read + write)."
             + (f" CPU time stolen by the hypervisor during the run: "
                f"{steal.describe(m['stolen'])}." if "stolen" in m else ""),
             "", "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
    notes = sorted({f"{ref}: {why}" for c in doc["cases"] for ref, why in c["missing"].items()})
    if notes:
        lines += ["", "Columns left out: " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"
