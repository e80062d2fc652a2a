"""The backward pass, and grad mode (the only ambient state in numbagrad)."""
import threading

from ..compile.capture import recorder
from . import version


class _State(threading.local):
    # A class default: a thread that never set the mode reads it without the slow
    # missing-attribute path of getattr(local, name, default).
    enabled = True
    # Called as observer(Function class, args as given, output tensors) after every
    # Function.apply; None but while an exporter traces (see framework.onnx).
    observer = None


_state = _State()


def is_grad_enabled():
    return _state.enabled


def get_observer():
    return _state.observer


class observe:
    """``with observe(fn):`` calls ``fn(cls, args, outputs)`` after each op on this thread."""

    def __init__(self, observer):
        self.observer = observer

    def __enter__(self):
        self._prev = _state.observer
        _state.observer = self.observer
        return self

    def __exit__(self, *exc):
        _state.observer = self._prev
        return False


def set_grad_enabled(mode):
    """Turn graph recording on or off for this thread; usable as a context manager."""
    return _GradMode(bool(mode))


class _GradMode:
    """Sets grad mode on construction and restores the previous one on exit."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        _state.enabled = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class _GradModeScope:
    """Context manager and decorator that sets grad mode only inside its scope."""

    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapped


class no_grad(_GradModeScope):
    """``with no_grad():`` runs ops without recording a graph."""

    mode = False


class enable_grad(_GradModeScope):
    """``with enable_grad():`` records a graph even inside ``no_grad``."""

    mode = True


class HookHandle:
    """Returned by a hook registration; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks = hooks
        # Keyed by the handle itself: the same function registered twice runs twice.
        hooks[self] = hook

    def remove(self):
        self._hooks.pop(self, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _topo_order(roots):
    """Graph nodes reachable from ``roots``, each after every node that consumes it."""
    order, seen = [], set()
    stack = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for t in node.inputs:
            if t is not None and t._grad_fn is not None and id(t._grad_fn) not in seen:
                stack.append((t._grad_fn, False))
    order.reverse()
    return order


class _Router:
    """Sums gradients per node output and per leaf, copying arrays that would be shared."""

    def __init__(self, capture):
        self.node_grads = {}
        self.leaf_grads = {}
        self.leaves = {}
        self.capture = capture
        self.captured = {}
        self.live = set()
        self.storage_of = {}  # id(owned array) -> its storage id, whatever its device

    def _own(self, k, g):
        # Two destinations must never share memory: both may be added into in place.
        sid = k.storage_id(g)
        if sid in self.live:
            out = k.empty(g.shape, g.dtype)
            k.cast(out.reshape(-1), g.reshape(-1))
            g, sid = out, k.storage_id(out)
        self.live.add(sid)
        self.storage_of[id(g)] = sid
        return g

    def _add(self, table, key, k, g):
        prev = table.get(key)
        if prev is None:
            table[key] = self._own(k, g)
        else:
            k.axpy(prev.reshape(-1), g.reshape(-1), 1)

    def route(self, k, tensor, g):
        key = id(tensor)
        if self.capture is not None and key in self.capture:
            self._add(self.captured, key, k, g)
        node = tensor._grad_fn
        if node is None:
            self._add(self.leaf_grads, key, k, g)
            self.leaves[key] = tensor
        else:
            self._add(self.node_grads, (id(node), tensor._output_nr), k, g)

    def take(self, node):
        """The summed gradients of ``node``'s outputs (None where none arrived)."""
        grads = [self.node_grads.pop((id(node), i), None) for i in range(node.n_outputs)]
        for g in grads:
            if g is not None:
                # Looked up, not recomputed: a node's outputs may live on another device
                # than its inputs (a device copy), so node.kernels may not read ``g``.
                self.live.discard(self.storage_of.pop(id(g), None))
        return grads


def run_backward(roots, root_grads, retain_graph=False, capture=None, accumulate=True):
    """Backpropagate ``root_grads`` from the tensors ``roots``.

    Args:
        roots: output tensors; root_grads: arrays of their shapes.
        retain_graph: keep saved arrays so the graph can be walked again.
        capture: tensors whose gradients to return (as a list, zeros-free: None
            where no path leads), instead of or besides accumulating into ``.grad``.
        accumulate: add the gradients of leaves into their ``.grad``.
    """
    router = _Router(None if capture is None else {id(t) for t in capture})
    nodes = []
    for t, g in zip(roots, root_grads):
        if t._grad_fn is not None and t._grad_fn.freed:
            raise _freed_error(t._grad_fn)
        router.route(t.kernels, t, g)
        if t._grad_fn is not None:
            nodes.append(t._grad_fn)
    order = _topo_order(nodes)
    # A leaf's gradient is final once the last node that feeds it has run: it goes into
    # ``.grad`` then, and its post-accumulate-grad hooks fire (DDP starts bucket
    # all-reduces from them while the rest of the walk goes on).
    final_after = _leaves_final_after(order) if accumulate else {}
    if accumulate:
        fed = {id(t) for leaves in final_after.values() for t in leaves}
        bare = [t for t in roots if t._grad_fn is None and id(t) not in fed]
        if bare:  # roots that are leaves themselves (rare)
            _accumulate_leaves(router, bare)
    for i, node in enumerate(order):
        if node.freed:
            raise _freed_error(node)
        _run_node(router, node, retain_graph)
        if i in final_after:
            _accumulate_leaves(router, final_after[i])
    if capture is not None:
        return [router.captured.get(id(t)) for t in capture]
    return None


def _run_node(router, node, retain_graph):
    """Run ``node``'s backward on its summed output gradients and route the results."""
    grads_out = router.take(node)
    if node.n_outputs == 1:
        if grads_out[0] is None:
            return
    elif any(g is None for g in grads_out):
        if all(g is None for g in grads_out):
            return
        grads_out = [g if g is not None else _zeros_like_output(node, i)
                     for i, g in enumerate(grads_out)]
    if node.versions:
        version.check_saved(node)
    grads_in = node.fn.backward(node, *grads_out)
    if not isinstance(grads_in, tuple):
        grads_in = (grads_in,)
    for t, g in zip(node.inputs, grads_in):
        if t is not None and g is not None:
            router.route(node.kernels, t, g)
    if not retain_graph:
        node.saved = node.versions = ()
        node.freed = True


def _leaves_final_after(order):
    """{position in ``order``: leaves whose last producing node sits there}."""
    last = {}
    for i, node in enumerate(order):
        for t in node.inputs:
            if t is not None and t._grad_fn is None and t.requires_grad:
                last[id(t)] = (i, t)
    final_after = {}
    for i, t in last.values():
        final_after.setdefault(i, []).append(t)
    return final_after


_TENSOR = []


def _load_tensor():
    # tensor.py imports this module, so Tensor is looked up on first use, once.
    from ..tensor import Tensor
    _TENSOR.append(Tensor)
    return Tensor


def _accumulate_leaves(router, leaves):
    """Add the routed gradients of ``leaves`` into their ``.grad``, then run their hooks."""
    Tensor = _TENSOR[0] if _TENSOR else _load_tensor()
    rec = recorder()
    for t in leaves:
        g = router.leaf_grads.pop(id(t), None)
        if g is None or not t.requires_grad:
            continue
        if rec is not None:  # a compiled step: what it assumes of .grad (capture.py)
            rec.note_grad(t)
        if t.grad is None:
            t.grad = Tensor._wrap(g, t.device, None, 0)
        else:
            t.kernels.axpy(t.grad.data.reshape(-1), g.reshape(-1), 1)
            if t.grad._version_counter is not None:  # else no graph saved it
                version.bump(t.grad, "gradient accumulation")
        for hook in (t._post_accumulate_grad_hooks or {}).values():
            hook(t)


def _zeros_like_output(node, i):
    shape, dtype = node.output_meta[i]
    return node.kernels.zeros(shape, dtype)


def _freed_error(node):
    return RuntimeError(
        f"Trying to backward through the graph a second time (through {node.fn.__name__}), "
        "but its saved arrays were freed after the first backward. Pass retain_graph=True "
        "to the first backward() if you need to backward twice.")
