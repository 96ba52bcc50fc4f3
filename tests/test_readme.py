import re
import subprocess
import sys

from conftest import ROOT

# `python X.py ...`, `python3 X.py`, `.venv/bin/python X.py`: the script and the rest of that command
SCRIPT = re.compile(r"(?:\.venv/bin/)?python3?\s+((?:[\w-]+/)*[\w-]+\.py)([^&;|'\n]*)")
FILE_ARGS = re.compile(r"(?:-r\s+|papermill\s+)(\S+)")


def readme_commands() -> list[str]:
    """Every line of every fenced block in README.md, comments cut off."""
    text = (ROOT / "README.md").read_text()
    return [ln.split("  #")[0].strip() for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
            for ln in block.splitlines() if ln.strip()]


def test_readme_commands_name_files_and_options_that_exist():
    lines = readme_commands()
    assert any("pytest" in ln for ln in lines) and any("papermill" in ln for ln in lines)
    helps, checked = {}, 0
    for line in lines:
        for name in FILE_ARGS.findall(line):
            assert (ROOT / name).is_file(), f"README names {name}, which is not in the repository: {line}"
        for script, rest in SCRIPT.findall(line):
            assert (ROOT / script).is_file(), f"README runs {script}, which is not in the repository: {line}"
            if script not in helps:
                r = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True,
                                   timeout=300)
                assert r.returncode == 0, f"{script} --help failed: {r.stderr[-500:]}"
                helps[script] = r.stdout
            for option in re.findall(r"(?<!\S)(--[a-z][a-z0-9-]*)", rest):
                assert re.search(rf"(?<![\w-]){option}(?![\w-])", helps[script]), \
                    f"README passes {option} to {script}, which has no such option: {line}"
                checked += 1
    assert {"train.py", "bench.py"} <= set(helps) and checked >= 8  # the two scripts a newcomer runs
