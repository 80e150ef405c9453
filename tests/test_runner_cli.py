"""`course run`, `course doctor`, the CLI dispatcher, key-result recording and paths."""

from __future__ import annotations

import nbformat
import pytest

from course_utils import paths, results
from course_utils.authoring import conventions
from course_utils.tools import runner
from course_utils.tools.cli import main


def _write_notebook(path, body: str):
    nb = conventions.new_notebook([
        conventions.parameters_cell("SMOKE = False\nSEED = 0"),
        nbformat.v4.new_code_cell(body),
    ])
    conventions.write_notebook(nb, path)


def test_results_record_and_read(tmp_path, monkeypatch):
    target = tmp_path / "r.jsonl"
    monkeypatch.setenv(results.RESULTS_ENV_VAR, str(target))
    results.record(accuracy=0.5, source="bundled")
    results.record(accuracy=0.75)
    assert results.read(target) == {"accuracy": 0.75, "source": "bundled"}
    assert results.read(tmp_path / "missing.jsonl") == {}


def test_find_notebooks_orders_and_filters(tmp_path):
    for name in ("02_b.ipynb", "01_a.ipynb", "notes.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in runner.find_notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]
    assert [p.name for p in runner.find_notebooks(tmp_path, ["2"])] == ["02_b.ipynb"]
    with pytest.raises(ValueError, match="no chapter notebook for 07"):
        runner.find_notebooks(tmp_path, ["07"])
    with pytest.raises(ValueError, match="chapter numbers"):
        runner.find_notebooks(tmp_path, ["three"])


@pytest.mark.slow
def test_course_run_summarises_ok_and_failed_chapters(tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_ok.ipynb",
                    "from course_utils.results import record\nrecord(answer=41 + 1, mnist_source='bundled', smoke=SMOKE)")
    _write_notebook(notebooks / "02_broken.ipynb", "raise RuntimeError('boom in chapter two')")
    out = tmp_path / "out"
    code = main(["run", "--smoke", "--notebooks", str(notebooks), "--out", str(out), "--no-progress"])
    assert code == 1
    summary = (out / "summary.md").read_text()
    assert "| 01 |" in summary and "answer = 42" in summary and "smoke = True" in summary
    assert "mnist: bundled" in summary
    assert "FAILED" in summary and "boom in chapter two" in summary and "cell-001 `raise RuntimeError" in summary
    assert (out / "01_ok.ipynb").is_file() and (out / "02_broken.ipynb").is_file()


@pytest.mark.slow
def test_course_run_with_the_default_relative_out_folder(tmp_path, monkeypatch, capfd):
    # The README's `make course` passes `--out build`, relative to the caller's directory; the
    # kernel runs inside the output folder, so a path left relative was resolved twice there.
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_ok.ipynb", "from course_utils.results import record\nrecord(answer=42)")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--smoke", "--notebooks", "nbs", "--no-progress"])
    assert code == 0
    assert "answer = 42" in (tmp_path / "build" / "summary.md").read_text()
    assert (tmp_path / "build" / "01_ok.ipynb").is_file()
    assert not (tmp_path / "build" / "build").exists()
    printed = capfd.readouterr()
    assert "Estimated time" in printed.out
    assert "without encryption" not in printed.out + printed.err  # kernels talk over local sockets


def test_run_without_notebooks_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "--notebooks", str(tmp_path / "nowhere")]) == 2
    assert "no notebooks/ folder" in capsys.readouterr().out


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "data", "doctor"):
        assert command in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_doctor_runs_offline(capsys, monkeypatch):
    monkeypatch.setattr("course_utils.tools.doctor.network_reachable", lambda *a, **k: False)
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "offline" in out and "The course can run." in out


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist" in out and "cifar10" in out and "cache directory" in out


def test_data_file_finds_curated_files_and_rejects_paths():
    assert paths.data_file("README.md").is_file()
    with pytest.raises(ValueError, match="bare file name"):
        paths.data_file("../pyproject.toml")
    with pytest.raises(FileNotFoundError, match="available"):
        paths.data_file("no_such_table.csv")


def test_colab_badge_matches_path():
    url = conventions.colab_url("notebooks/03_mnist_cnn.ipynb")
    assert url.endswith("/blob/main/notebooks/03_mnist_cnn.ipynb")
    with pytest.raises(ValueError):
        conventions.colab_url("/abs/03.ipynb")
