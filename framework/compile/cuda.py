"""The CUDA-graph executor: a plan's launches captured once, replayed as one launch.

NEVER RUN ON A REAL GPU (no GPU was lent when it was written); opt-in through
``fw.compile(fn, executor="cuda_graph")``. The default CUDA executor replays the plan
launch by launch (``replay.LaunchExecutor``), which the simulator tests check against
eager execution.

A graph bakes in every address and scalar. So inputs are copied into static buffers
before each launch and outputs copied out of static buffers after it, and the graph
is captured again whenever the plan's per-replay scalars (an lr, Adam's step count)
change, since the kernels take them by value. A plan without such scalars (SGD at a
fixed lr) is captured once.
"""
import numpy as np

from .replay import LaunchExecutor


class GraphExecutor:
    """Runs a plan as a CUDA graph on the static copies of its input and output buffers."""

    def __init__(self, plan, kernels):
        from kernels.cuda import graph
        if any(op.name == "host" for op in plan.ops):
            raise RuntimeError("fw.compile: this step calls the host between its kernels "
                               "(a collective, say); a CUDA graph cannot hold that: use "
                               "the default executor")
        if any(step[0] == "refill" and plan.buffers[step[1].buffer].kind != "scratch"
               for step in plan.host_steps):
            raise RuntimeError("fw.compile: this step returns a random tensor drawn on the "
                               "host; the CUDA-graph executor cannot refill it yet: use the "
                               "default executor")
        self.graph_api = graph
        self.kernels = kernels
        self.launcher = LaunchExecutor(plan, kernels)
        self.inputs = [i for i, b in enumerate(plan.buffers) if b.kind == "input"]
        self.outputs = [i for i, b in enumerate(plan.buffers) if b.kind == "output"]
        self.static = [None] * len(plan.buffers)
        for i in self.inputs + self.outputs:
            b = plan.buffers[i]
            self.static[i] = kernels.empty(b.shape, b.dtype)
        self.graph = None
        self.kept = None
        self.captured_slots = None

    def run(self, bases, slots):
        k = self.kernels
        for i in self.inputs:
            _copy(k, self.static[i], bases[i])
        if self.graph is None or not np.array_equal(slots, self.captured_slots):
            values = slots.copy()
            self.graph, self.kept = self.graph_api.capture(
                lambda: self.launcher.run(self.static, values))
            self.captured_slots = values
        self.graph_api.launch(self.graph)
        for i in self.outputs:
            _copy(k, bases[i], self.static[i])


def _copy(k, dst, src):
    if src.size:
        k.cast(dst.reshape(-1), src.reshape(-1))
