"""MLP epoch on MNIST: 2 MPI ranks x 1 thread (batch 32 each, DDP) against 1 process x
2 threads (batch 64), interleaved; plus the all-reduce time per step.

    python bench/distributed_mlp.py --data-dir ../shared/data/mnist --repeat 3

Each measurement is a fresh process (or ``mpiexec -n 2`` job) that trains one warm-up
epoch slice then times one full epoch. Prints one line per run and a summary (min and
median). Needs the ``mpi`` extra.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np


def _epoch(data_dir, world, threads):
    import framework as fw
    from framework.nn import functional as F
    from framework.training.distributed import Run
    from framework.training.loop import TrainState, train_epoch
    from framework.training.models import mlp

    fw.set_num_threads(threads)
    rank = 0
    if world > 1:
        fw.distributed.init_process_group()
        rank = fw.distributed.get_rank()
    job = Run(rank, world)
    model = job.wrap(mlp(fw.Generator(0)))
    opt = fw.optim.SGD(model.parameters(), lr=0.01)
    data = fw.data.MNIST(data_dir, train=True)
    loader = job.train_loader(data, 64 // world, fw.Generator(1), fw.device("cpu"))
    train_epoch(model, F.cross_entropy, opt, loader, max_steps=20,
                reduce_sums=job.sum_reducer())  # compile and warm up
    if world > 1:
        model.sync_seconds = 0.0
        fw.distributed.barrier()
    start = time.perf_counter()
    state = TrainState()
    loss = train_epoch(model, F.cross_entropy, opt, loader, state,
                       reduce_sums=job.sum_reducer())
    seconds = time.perf_counter() - start
    result = {"world": world, "threads": threads, "seconds": seconds, "loss": loss,
              "steps": state.step_in_epoch}
    if world > 1:
        result["exposed_allreduce_ms_per_step"] = 1e3 * model.sync_seconds / state.step_in_epoch
        result["allreduce_ms"] = _allreduce_ms(model)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def _allreduce_ms(model):
    """Median time of one blocking all-reduce of all the gradients (one flat buffer)."""
    import framework as fw
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    buffer = np.ones(sum(p.numel() for p in model.parameters()), dtype=np.float32)
    times = []
    for _ in range(50):
        fw.distributed.barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _run(command):
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(lines[0][len("RESULT "):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, type=int, metavar=("WORLD", "THREADS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _epoch(args.data_dir, *args.child)
        return
    from framework.training.distributed import find_mpiexec
    me = [sys.executable, __file__, "--data-dir", args.data_dir, "--child"]
    runs = {"1 process x 2 threads, batch 64": [], "2 ranks x 1 thread, batch 32 each": []}
    for _ in range(args.repeat):
        for name, command in zip(runs, (me + ["1", "2"],
                                        [find_mpiexec(), "-n", "2"] + me + ["2", "1"])):
            result = _run(command)
            runs[name].append(result)
            print(name, json.dumps(result), flush=True)
    for name, results in runs.items():
        seconds = [r["seconds"] for r in results]
        line = f"{name}: epoch min {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s"
        if "allreduce_ms" in results[0]:
            ar = [r["allreduce_ms"] for r in results]
            ex = [r["exposed_allreduce_ms_per_step"] for r in results]
            line += (f"; all-reduce of all gradients {min(ar):.3f}-{max(ar):.3f} ms, "
                     f"exposed in backward {min(ex):.3f}-{max(ex):.3f} ms per step")
        print(line)


if __name__ == "__main__":
    main()
