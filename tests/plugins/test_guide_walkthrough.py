"""The "Write a backend" guide (docs/guide/write-a-backend.md), followed literally.

The guide marks each step with an HTML comment before its code block:

- ``<!-- walkthrough: PATH -->``: write the block to ``PATH`` (relative to the reader's folder);
- ``<!-- walkthrough: insert PATH after: LINE -->``: insert the block into ``PATH`` after the
  line that reads ``LINE`` (stripped);
- ``<!-- walkthrough: shell -->`` (``shell exit=N``): a console block; each ``$ `` line is run
  with bash, and the lines up to the next ``$`` are what it must print (stdout and stderr, as a
  terminal shows them): ``...`` on a line of its own stands for any number of lines, and inside
  a line for any text. Every command must exit with status 0 (or ``N``).

The reader's environment is a fresh virtual environment in a temporary folder that sees the
packages of the one running this test (eagerflow, torch, array-api-compat, pytest...) and has
eagerflow-core's ``eagerflow`` command; ``python -m pip install`` installs into it, so the
project's own environment never sees the guide's plugin.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# The guide's plugin computes with torch through array-api-compat. Looked up, not imported:
# importing torch here would slow every test run that collects this file.
needs_torch = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "array_api_compat")),
    reason="the guide's plugin needs torch and array-api-compat (pip install torch==2.13.0 "
           "array-api-compat)")

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide" / "write-a-backend.md"
_STEP = re.compile(r"<!-- walkthrough: (?P<spec>.+?) -->\n```[\w-]*\n(?P<body>.*?)^```",
                   re.DOTALL | re.MULTILINE)


@dataclass
class Step:
    kind: str          # "file", "insert" or "shell"
    body: str
    path: str = ""
    anchor: str = ""   # insert: the line to insert after
    exit: int = 0      # shell: the status every command must exit with

    def __str__(self):
        return f"{self.kind} {self.path or self.body.splitlines()[0]}"


def parse_steps(text: str) -> list[Step]:
    steps = []
    for m in _STEP.finditer(text):
        spec, body = m["spec"].strip(), m["body"]
        if spec.startswith("shell"):
            status = re.fullmatch(r"shell(?: exit=(\d+))?", spec)
            assert status, f"bad walkthrough mark {spec!r}"
            steps.append(Step("shell", body, exit=int(status[1] or 0)))
        elif spec.startswith("insert "):
            path, _, anchor = spec[len("insert "):].partition(" after: ")
            steps.append(Step("insert", body, path=path.strip(), anchor=anchor.strip()))
        else:
            steps.append(Step("file", body, path=spec))
    return steps


def commands(block: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` for each ``$ `` line of a console block."""
    out = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        else:
            assert out, f"console block must start with a '$ ' line: {block!r}"
            out[-1][1].append(line.rstrip())
    return out


def output_pattern(expected: list[str]) -> re.Pattern:
    """A regex matching a whole output: ``...`` lines match any lines, ``...`` in a line any
    text; the other lines must appear in that order with nothing between them."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.split("...")) + r"\n")
    return re.compile("".join(parts))


def _normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n"


def make_environment(tmp: Path) -> dict:
    """A fresh venv seeing this interpreter's packages; returns the environment to run in."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run([str(py), "-c", where], capture_output=True, text=True, check=True)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # addsitedir (not a plain path line) so that the .pth files there run too: eagerflow's
    # editable installs are .pth files.
    Path(purelib.stdout.strip(), "_eagerflow_project.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in sorted(ours)))
    # eagerflow-core's console script, as pip writes it for an installed eagerflow-core.
    script = venv / "bin" / "eagerflow"
    script.write_text(f"#!{py}\nimport sys\nfrom eagerflow_core.cli import main\n"
                      f"sys.exit(main())\n")
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EAGERFLOW_", "PYTHON", "VIRTUAL_ENV", "HYPOTHESIS"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               VIRTUAL_ENV=str(venv), PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


def run_step(step: Step, folder: Path, env: dict) -> None:
    if step.kind == "file":
        path = folder / step.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.body)
    elif step.kind == "insert":
        path = folder / step.path
        lines = path.read_text().splitlines(keepends=True)
        hits = [i for i, line in enumerate(lines) if line.strip() == step.anchor]
        assert len(hits) == 1, f"{step}: the line {step.anchor!r} occurs {len(hits)} times"
        block = step.body if step.body.endswith("\n") else step.body + "\n"
        if not block[0].isspace():  # a top-level definition: blank lines around it
            block = "\n\n" + block
        lines.insert(hits[0] + 1, block)
        path.write_text("".join(lines))
    else:
        for command, expected in commands(step.body):
            proc = subprocess.run(["bash", "-c", command], cwd=folder, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=600, check=False)
            output = _normalise(proc.stdout)
            shown = "\n".join(expected)
            assert proc.returncode == step.exit, (
                f"`{command}` exited with {proc.returncode}, the guide expects {step.exit}; "
                f"it printed:\n{output}")
            assert output_pattern(expected).fullmatch(output), (
                f"`{command}` printed what the guide does not show.\nGuide:\n{shown}\n\n"
                f"Printed:\n{output}")


def test_the_guide_marks_each_step():
    steps = parse_steps(GUIDE.read_text())
    kinds = [s.kind for s in steps]
    shell = "\n".join(s.body for s in steps if s.kind == "shell")
    # What the guide promises to walk through, each as a step the test runs.
    assert kinds.count("file") >= 4 and "insert" in kinds
    for command in ("pip install", "eagerflow info", "eagerflow conformance --backend mytorch",
                    "pytest", "--pyargs eagerflow_core.testing", "EAGERFLOW_FALLBACK="):
        assert command in shell, f"no walkthrough step runs {command!r}"
    # Every code block after a mark was recognised as a step (no typo in a mark).
    assert len(steps) == GUIDE.read_text().count("<!-- walkthrough:")


def test_output_patterns():
    pat = output_pattern(["a ... b", "...", "end"])
    assert pat.fullmatch("a x y b\nend\n") and pat.fullmatch("a  b\n1\n2\nend\n")
    assert not pat.fullmatch("a b\nend\n") and not pat.fullmatch("a x b\nextra\n")
    assert commands("$ one\nout\n$ two\n") == [("one", ["out"]), ("two", [])]


@needs_torch
def test_walkthrough(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    env = make_environment(tmp_path)
    steps = parse_steps(GUIDE.read_text())
    for i, step in enumerate(steps, 1):
        try:
            run_step(step, folder, env)
        except AssertionError as exc:
            raise AssertionError(f"guide step {i} ({step}):\n{textwrap.indent(str(exc), '  ')}")
