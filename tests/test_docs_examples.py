"""Every script in docs/examples/ runs to the end and prints what the docs say it prints.

Each runs in its own process with the interpreter running the tests (the venv's, under
`make test`), as a reader would run it. A new example needs no change here to be run; list
the lines it must print in ``EXPECTED`` to check more than its exit status, and in ``ARGS``
the command-line arguments that keep it short (``{tmp}`` is a fresh directory).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))

#: example file name -> substrings its standard output must contain, in this order.
EXPECTED = {
    "eager_basics.py": [
        "ef.Tensor([[4., 0.],\n           [0., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')",
        "ef.Tensor(6., shape=(), dtype=float64, device='cpu:0')",
        "ef.Tensor(1., shape=(), dtype=float64, device='cpu:0')",
        "int8 + 1       -> int8",
        "int8 + 0.5     -> float32",
        "int8 + uint8   -> int16",
        "bf16 + float16 -> float32",
        "int8 / 2       -> float32",
        "int32 / 2      -> float64",
        "[13, 24, 35]], shape=(2, 3), dtype=int64",
        "m[1]    = ef.Tensor([3, 4, 5], shape=(3,), dtype=int64, device='cpu:0')",
        "m[:, 2] = ef.Tensor([2, 5], shape=(2,), dtype=int64, device='cpu:0')",
        "m[m > 2] = ef.Tensor([3, 4, 5], shape=(3,), dtype=int64, device='cpu:0')",
        ("after m[0, 0] = 100: ef.Tensor([100,   1,   2], shape=(3,), dtype=int64, "
         "device='cpu:0') while row taken before is still ef.Tensor([0, 1, 2],"),
        "default device: cpu:0",
        "z lives on cpu:0",
        "backend  distribution           device  version",
        "ShapeError: matmul: inner sizes differ",
        "DTypeError: add: no common dtype for uint64 and int8",
    ],
    "gradients.py": [
        "dw shape: (3, 2)",
        "d4 tanh at 0.5: 3.9522",
        "grad x**3 at 2: ef.Tensor(12., shape=(), dtype=float32, device='cpu:0')",
        "6x: ef.Tensor([[ 6., 12., 18.]], shape=(1, 3), dtype=float32, device='cpu:0')",
        "log1pexp'(100): ef.Tensor(1., shape=(), dtype=float32, device='cpu:0')",
        "naive        : ef.Tensor(nan, shape=(), dtype=float32, device='cpu:0')",
        "step   0  loss",
        "step 500  loss",
        "loss went down: True",
        ("grad of where(x > 0, sqrt(x), 0): ef.Tensor([0.  , 0.  , 0.25], shape=(3,), "
         "dtype=float32, device='cpu:0')"),
        "gradient: None",
        "because the source was never watched by this tape: call tape.watch(x)",
    ],
    "custom_backend.py": [
        "ef.Tensor([3., 5., 7.], shape=(3,), dtype=float32, device='abacus:0')",
        "ef.Tensor(6., shape=(), dtype=float32, device='abacus:0')",
        "KernelNotFoundError: exp: backend 'abacus' (device abacus:0) has no kernel",
        "device='cpu:0')",
        "DeviceError: add: inputs are on different devices (abacus:0, cpu:0)",
        "abacus   -                      abacus  0.1",
    ],
    "train_digits.py": [
        "digits: 1438 training and 359 test images of 8x8, on cpu",
        "epoch  1/3  loss",
        "epoch  3/3  loss",
        "test accuracy: ",
        "saved checkpoint ",
        "restored into a fresh model: test accuracy ",
        "(same as before: True)",
        "wrote the loss and accuracy per epoch to ",
    ],
}

#: example file name -> extra command-line arguments. The digits demo trains 3 epochs here
#: (``make demo`` trains 12, reaching 97-99% test accuracy); the test below checks its score.
ARGS = {"train_digits.py": ["--epochs", "3", "--quiet", "--out", "{tmp}"]}


def _run(path, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in ARGS.get(path.name, [])]
    return subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_examples_exist():
    names = [p.name for p in EXAMPLES]
    assert "eager_basics.py" in names, "make demo runs docs/examples/eager_basics.py"
    assert "gradients.py" in names, "make demo runs docs/examples/gradients.py"
    assert "train_digits.py" in names, "make demo runs docs/examples/train_digits.py"
    assert set(EXPECTED) <= set(names), "EXPECTED names an example that is gone"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    proc = _run(path, tmp_path)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.strip(), f"{path.name} printed nothing"
    at = 0
    for want in EXPECTED.get(path.name, []):
        found = proc.stdout.find(want, at)
        assert found >= 0, f"{path.name} should print {want!r} after position {at}:\n{proc.stdout}"
        at = found + len(want)
    if path.name == "train_digits.py":
        _check_digits(proc.stdout, tmp_path)


def test_the_collatz_loop_of_the_tour_is_exact_from_2_pow_25_plus_1():
    """The tour's loop (README, eager_basics.py), run as written from 2**25 + 1: an int64 / 2
    is float64 (TensorFlow's rule), so every step is exact and it takes the true 170 steps; in
    float32 (PyTorch's and JAX's choice) values above 2**24 lose bits and it ends after 33."""
    source = (ROOT / "docs" / "examples" / "eager_basics.py").read_text()
    loop = re.search(r"^a = ef\.constant\(12\).*?\n(while .*?)\n    print\(a\)", source,
                     re.S | re.M)
    assert loop, "eager_basics.py no longer holds the Collatz loop"
    assert loop.group(1) in (ROOT / "README.md").read_text(), "the README's tour differs"
    import eagerflow_core as ef
    steps = 0
    a = ef.constant(2 ** 25 + 1)
    while not ef.equal(a, 1):
        exec(loop.group(1).split("\n", 1)[1].strip(), {"ef": ef}, scope := {"a": a})
        a, steps = scope["a"], steps + 1
    assert steps == 170 and a.dtype is ef.float64


def _check_digits(out, tmp_path):
    """Three epochs reach 90-93% on the held-out digits with the demo's seed (12 epochs: 98%);
    the restored model scores the same; the checkpoint and the PNG are where it says."""
    final = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    restored = float(re.search(r"restored into a fresh model: test accuracy ([\d.]+)%",
                               out).group(1))
    assert final >= 85.0 and restored == final, out
    png = Path(re.search(r"per epoch to (\S+)", out).group(1))
    assert png.parent == tmp_path and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "ckpt-1.npz").exists()


# -- the reference pages stay true to the code ---------------------------------------------------

def _markdown_table(text: str, header_start: str) -> list[list[str]]:
    """The rows of the first markdown table whose header line starts with ``header_start``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_promotion_table_in_the_docs_is_the_core_table():
    import eagerflow_core as ef
    from eagerflow_core import _dtypes

    text = (ROOT / "docs" / "tensors-and-dtypes.md").read_text()
    header, _rule, *rows = _markdown_table(text, "| | b | i1 |")
    code = _dtypes._CODE
    columns = [code[c] for c in header[1:]]
    assert columns == list(_dtypes.ALL_DTYPES)
    assert len(rows) == len(columns)
    for row in rows:
        a = code[row[0].strip("*")]
        for b, cell in zip(columns, row[1:]):
            if cell == "—":
                with pytest.raises(ef.DTypeError, match="no common dtype"):
                    ef.promote_types(a, b)
            else:
                assert ef.promote_types(a, b) is code[cell], (a, b)


def test_op_reference_lists_every_registered_op():
    from eagerflow_core._registry import OPS

    text = (ROOT / "docs" / "reference" / "ops.md").read_text()
    listed = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert listed == set(OPS), (
        "docs/reference/ops.md is stale: run `make ops-ref` (or `make docs`) and commit it; "
        f"missing {sorted(set(OPS) - listed)}, gone {sorted(listed - set(OPS))}")


def test_gen_ops_renders_every_op_with_its_backends():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_ops
    finally:
        sys.path.remove(str(ROOT / "docs"))
    from eagerflow_core._registry import OPS

    page = gen_ops.render()
    assert page.startswith("# Op reference\n")
    for name in OPS:
        assert f"| `{name}` |" in page
    add_row = next(line for line in page.splitlines() if line.startswith("| `add` |"))
    assert "| yes |" in add_row  # differentiable, and the NumPy backend has a kernel
