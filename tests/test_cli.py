"""The command line: help, version, and the info self-check."""
import subprocess
import sys

from framework.cli import main


def test_help_and_no_command(capsys):
    assert main([]) == 0
    assert "numbagrad" in capsys.readouterr().out


def test_info_runs_a_real_step(capsys):
    assert main(["info", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "self-check: forward/backward ok" in out


def test_bad_thread_count_is_one_clear_line(capsys):
    assert main(["info", "--threads", "999"]) == 2
    err = capsys.readouterr().err
    assert "set_num_threads" in err and "Traceback" not in err


def test_console_entry_point_module():
    out = subprocess.run([sys.executable, "-m", "framework", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("numbagrad ")
