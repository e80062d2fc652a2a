"""The machinery of ``numbagrad bench`` on tiny sizes; timing numbers are never asserted."""
import itertools
import json
import subprocess
import sys

import pytest

import framework.benchmark.refs as refs
from framework.benchmark import core
from framework.cli import main
from tests.conftest import skip_if_cuda_available


def _fake_clock(step_per_call):
    """A clock that advances by a fixed amount per reading pair (deterministic timings)."""
    ticks = itertools.count()
    return lambda: next(ticks) * step_per_call


def test_run_case_interleaves_and_reports_min_and_median():
    calls = []
    case = core.Case("ops", "demo", {"numbagrad": lambda: calls.append("n"),
                                     "numpy": lambda: calls.append("p")},
                     flops=2e9, calibrate=False)
    result = core.run_case(case, repeat=3, clock=_fake_clock(0.5))
    assert calls == ["n", "p"] + ["n", "p"] * 3  # warm-up, then round-robin
    assert result.times["numbagrad"] == [0.5] * 3
    stats = result.stats("numbagrad")
    assert stats["min_s"] == 0.5 and stats["median_s"] == 0.5
    assert result.ratios() == {"numpy": 1.0}
    roof = result.roofline({"matmul_gflops": 8.0, "copy_gbs": 10.0})
    assert roof["kind"] == "gemm" and roof["achieved"] == pytest.approx(4.0)
    assert roof["fraction"] == pytest.approx(0.5)


def test_memory_bound_roofline_and_metrics():
    case = core.Case("ops", "copy", {"numbagrad": lambda: {"test_accuracy": 0.5,
                                                          "train_loss": 1.0}},
                     bytes=1e9, calibrate=False, warmup=False)
    result = core.run_case(case, repeat=2, clock=_fake_clock(0.25))
    roof = result.roofline({"matmul_gflops": 1.0, "copy_gbs": 8.0})
    assert roof["kind"] == "memory" and roof["fraction"] == pytest.approx(0.5)
    assert result.metrics == {"numbagrad": {"test_accuracy": 0.5, "train_loss": 1.0}}
    assert result.ratios() == {}


def test_missing_reference_is_noted_not_run():
    case = refs.add_refs(core.Case("ops", "x", {"numbagrad": lambda: None}), {"torch", "numpy"},
                         None, lambda: None, "PyTorch is not installed")
    assert set(case.impls) == {"numbagrad", "numpy"}
    assert case.missing == {"torch": "PyTorch is not installed"}
    doc = core.to_json([core.run_case(case, repeat=1)], {}, {"cpu": "x"}, "cmd", "today")
    assert doc["cases"][0]["missing"] == {"torch": "PyTorch is not installed"}
    row = core.rows(doc)[1]
    assert row[3] == "n/a" and row[5] == "n/a"
    assert "Columns left out: torch: PyTorch is not installed." in core.markdown(
        dict(doc, machine={"cpu": "x", "threads": 1, "cores": 2, "numba": "1", "numpy": "2",
                           "torch": None}))


def _run_cli(tmp_path, *args):
    out = tmp_path / "bench.json"
    code = main(["bench", "--threads", "1", "--repeat", "1", "--scale", "0.001",
                 "--json", str(out)] + list(args))
    return code, json.loads(out.read_text()) if out.exists() else None


def test_cli_json_schema_ops_suite(tmp_path, capsys):
    code, doc = _run_cli(tmp_path, "--suite", "ops", "--against", "numpy",
                         "--markdown", str(tmp_path / "r.md"))
    assert code == 0
    assert doc["schema"] == "numbagrad-bench-1" and doc["command"].startswith("numbagrad bench")
    assert {"cpu", "cores", "threads", "numba", "numpy", "torch"} <= set(doc["machine"])
    assert doc["machine"]["threads"] == 1
    assert doc["peaks"]["matmul_gflops"] > 0 and doc["peaks"]["copy_gbs"] > 0
    names = [c["name"] for c in doc["cases"]]
    assert any(n.startswith("tiny step") for n in names) and any("matmul" in n for n in names)
    for c in doc["cases"]:
        assert set(c["times"]) <= {"numbagrad", "numpy"}
        assert {"min_s", "median_s", "samples_s"} <= set(c["times"]["numbagrad"])
        if "numpy" in c["times"]:
            assert c["ratios"]["numpy"] == pytest.approx(
                c["times"]["numbagrad"]["median_s"] / c["times"]["numpy"]["median_s"])
    assert any(c["roofline"] and c["roofline"]["kind"] == "memory" for c in doc["cases"])
    assert any(c["roofline"] and c["roofline"]["kind"] == "gemm" for c in doc["cases"])
    assert "| suite | case |" in (tmp_path / "r.md").read_text()
    assert "ours/numpy" in capsys.readouterr().out


def test_cli_takes_a_comma_separated_list_of_suites(tmp_path):
    code, doc = _run_cli(tmp_path, "--suite", "layers, ops,layers", "--against", "numpy")
    assert code == 0
    suites = [c["suite"] for c in doc["cases"]]
    # in the order named, each once: every layers case, then every ops case
    assert suites == ["layers"] * suites.count("layers") + ["ops"] * suites.count("ops")
    _, alone = _run_cli(tmp_path, "--suite", "layers", "--against", "numpy")
    assert suites.count("layers") == len(alone["cases"]) and "ops" in suites


def test_cli_without_torch_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(refs, "torch_module",
                        lambda against: (None, "PyTorch is not installed (pip install torch)"))
    code, doc = _run_cli(tmp_path, "--suite", "layers", "--against", "torch,numpy",
                         "--plot", str(tmp_path / "r.png"))
    assert code == 0
    assert all(c["missing"] == {"torch": "PyTorch is not installed (pip install torch)"}
               for c in doc["cases"])
    assert "note: no torch column" in capsys.readouterr().out
    if (tmp_path / "r.png").exists():
        assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_mnist_and_startup_suites(tmp_path, mnist_subset_dir):
    code, doc = _run_cli(tmp_path, "--suite", "mnist", "--data-dir", str(mnist_subset_dir),
                         "--against", "numpy")
    assert code == 0
    names = [c["name"] for c in doc["cases"]]
    assert [n.split(",")[0] for n in names] == [
        "MLP batch 64", "MLP batch 64", "MLP batch 256", "MLP batch 256", "CNN batch 64",
        "CNN batch 64"]
    assert [", fw.compile," in n for n in names] == [False, True] * 3
    for c in doc["cases"]:
        m = c["metrics"]["numbagrad"]
        assert 0 <= m["test_accuracy"] <= 1 and m["train_loss"] > 0
    code, doc = _run_cli(tmp_path, "--suite", "startup", "--against", "none")
    assert code == 0 and len(doc["cases"]) == 2
    assert all(c["times"]["numbagrad"]["min_s"] > 0 for c in doc["cases"])


@pytest.mark.parametrize("args,message", [
    (["--device", "cuda"], "--device cuda:"),
    (["--against", "jax"], "unknown reference(s) jax"),
    (["--repeat", "0"], "--repeat must be at least 1"),
    (["--suite", "gpu"], "--suite gpu runs on --device cuda, not cpu"),
    (["--suite", "ops,gpu"], "--suite gpu runs on --device cuda, not cpu"),
    (["--suite", "ops,layer"], "--suite: unknown suite(s) layer; choose from ops, layers,"),
    (["--suite", ","], "--suite: unknown suite(s) ','"),
    (["--suite", "all,ops"], "--suite: all runs every suite; name it alone"),
    (["--suite", "mnist", "--data-dir", "/nonexistent"], "MNIST files not found"),
])
def test_cli_errors_are_one_line(args, message):
    if "cuda" in args:
        skip_if_cuda_available()
    proc = subprocess.run([sys.executable, "-m", "framework", "bench", "--scale", "0.001"]
                          + args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_each_size_gets_its_own_arrays():
    import numpy as np

    from framework.benchmark import ops
    rng = np.random.default_rng(0)
    cases = (ops._elementwise_cases(300, rng, {"numpy"}, None, None)
             + ops._elementwise_cases(500, rng, {"numpy"}, None, None))
    adds = [c for c in cases if c.name.startswith("add")]
    assert [c.impls["numbagrad"]().shape for c in adds] == [(300,), (500,)]
    assert [c.impls["numpy"]().shape for c in adds] == [(300,), (500,)]


def test_steal_from_proc_stat(tmp_path):
    from framework.benchmark import steal
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 5 35 7 0\ncpu0 1 2 3\n")
    assert steal.read(str(stat)) == (35, 1000)  # guest (7) is inside user already
    assert steal.fraction((35, 1000), (95, 1200)) == pytest.approx(0.3)
    assert steal.describe(0.3) == "30% of CPU time"
    for text in ("", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"):
        stat.write_text(text)
        assert steal.read(str(stat)) is None, text
    assert steal.read(str(tmp_path / "missing")) is None
    assert steal.fraction(None, (1, 2)) is None and steal.fraction((5, 10), (5, 10)) is None
    assert steal.describe(None) == "unknown"


def test_cli_reports_steal_per_case_and_run(tmp_path, capsys):
    code, doc = _run_cli(tmp_path, "--suite", "ops", "--against", "numpy",
                         "--markdown", str(tmp_path / "r.md"))
    assert code == 0
    shares = [doc["machine"]["stolen"]] + [c["stolen"] for c in doc["cases"]]
    assert all(s is None or 0 <= s <= 1 for s in shares)
    assert "CPU time stolen by the hypervisor during the run: " in (tmp_path / "r.md").read_text()
    assert "| stolen: " in capsys.readouterr().out
