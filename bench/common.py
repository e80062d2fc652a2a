"""Timing helpers shared by the benchmark scripts: interleaved repeats, min and median."""
import os
import platform
import statistics
import time


def timeit(fn, repeat=7, number=None, min_time=0.05):
    """Per-call seconds of ``fn`` over ``repeat`` rounds: (min, median).

    Each round runs ``number`` calls (chosen so one round takes ~``min_time``).
    """
    fn()  # warm-up: JIT compile, allocator pools
    if number is None:
        number, elapsed = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time or number >= 1 << 20:
                break
            number *= 2
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds), statistics.median(rounds)


def interleaved(cases, repeat=7, min_time=0.05):
    """Time several implementations of one case round-robin, so drift hits all alike.

    Args:
        cases: dict name -> zero-argument callable.
    Returns:
        dict name -> (min seconds, median seconds).
    """
    numbers = {}
    for name, fn in cases.items():
        fn()
        number = 1
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - start >= min_time / 4 or number >= 1 << 20:
                break
            number *= 2
        numbers[name] = number
    rounds = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fn()
            rounds[name].append((time.perf_counter() - start) / numbers[name])
    return {name: (min(r), statistics.median(r)) for name, r in rounds.items()}


def machine_facts(threads):
    facts = {"python": platform.python_version(), "threads": threads,
             "cpu": _cpu_model(), "cores": os.cpu_count()}
    for mod in ("numba", "numpy", "torch"):
        try:
            facts[mod] = __import__(mod).__version__
        except ImportError:
            facts[mod] = None
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


def set_threads(n):
    """The same thread count for us, NumPy's BLAS and PyTorch."""
    import framework as fw
    fw.set_num_threads(n)
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass
