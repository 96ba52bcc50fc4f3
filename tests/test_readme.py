import re
import subprocess
import sys

from conftest import ROOT

# `python X.py ...`, `python3 X.py`, `.venv/bin/python X.py`: the script and the rest of that command
SCRIPT = re.compile(r"(?:\.venv/bin/)?python3?\s+((?:[\w-]+/)*[\w-]+\.py)([^&;|'\n]*)")
FILE_ARGS = re.compile(r"(?:-r\s+|papermill\s+)(\S+)")
# a link to a heading: inline [text](FILE#anchor), or a reference definition [label]: FILE#anchor; FILE may be empty
LINK = re.compile(r"\]\(([\w./-]*)#([^)\s]+)\)|^\[[^\]]+\]: ([\w./-]*)#(\S+)", re.M)


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


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation but - and _ dropped, spaces to -,
    a repeated one numbered (-1, -2, ...). Lines in fenced blocks are not headings."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def test_links_to_a_heading_name_one_that_exists():
    docs = {name: (ROOT / name).read_text() for name in ("README.md", "RESULTS.md")}
    anchors = {name: heading_anchors(text) for name, text in docs.items()}
    checked = 0
    for name, text in docs.items():
        for inline, inline_anchor, ref, ref_anchor in LINK.findall(text):
            target, anchor = (inline or ref) or name, inline_anchor or ref_anchor
            if target in anchors:
                assert anchor in anchors[target], f"{name} links to {target}#{anchor}, which is no heading there"
                checked += 1
    assert checked >= 50


def test_heading_anchors_follow_github():
    text = "# A, -0.002: b's 99.4%\n```\n# not a heading\n```\n## Twice\n## Twice\n"
    assert heading_anchors(text) == {"a--0002-bs-994", "twice", "twice-1"}
