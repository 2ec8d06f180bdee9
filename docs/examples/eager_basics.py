"""eagerflow in one page: tensors that compute at once, Python control flow, devices, errors.

Run it with `make demo` (or `.venv/bin/python docs/examples/eager_basics.py`).
"""

import eagerflow_core as ef

# -- tensors compute at once ------------------------------------------------------------------
x = ef.constant([[2.0, 0.0], [0.0, 1.0]])          # also ef.tensor / ef.asarray
print(ef.matmul(x, x))                               # runs at once; shows values, shape, dtype, device
print(x @ x + 1)                                     # operators are the same ops

# -- ordinary Python control flow on tensor values ---------------------------------------------
a = ef.constant(12)                                  # Collatz with ordinary Python control flow
while not ef.equal(a, 1):
    a = a / 2 if ef.equal(a % 2, 0) else 3 * a + 1
    print(a)

# -- dtypes and promotion ----------------------------------------------------------------------
i8 = ef.asarray([1, 2, 3], dtype=ef.int8)
print("int8 + 1       ->", (i8 + 1).dtype)           # a Python scalar is weak: int8 stays int8
print("int8 + 0.5     ->", (i8 + 0.5).dtype)         # ... unless its kind is higher: float32
print("int8 + uint8   ->", ef.result_type(ef.int8, ef.uint8))
print("bf16 + float16 ->", (ef.ones(2, dtype=ef.bfloat16) + ef.ones(2, dtype=ef.float16)).dtype)
print("int8 / 2       ->", (i8 / 2).dtype)             # true division as in TensorFlow: small ints
print("int32 / 2      ->", (ef.asarray([1, 2], dtype=ef.int32) / 2).dtype)  # ... wide ints exact

# -- shapes, broadcasting and indexing --------------------------------------------------------
m = ef.reshape(ef.arange(6), (2, 3))
print(m + ef.asarray([10, 20, 30]))                  # (2, 3) + (3,) broadcasts
print("m[1]    =", m[1])
print("m[:, 2] =", m[:, 2])
print("m[m > 2] =", m[m > 2])
row = m[0]
m[0, 0] = 100                                        # rebinds m to new values; nothing is written
print("after m[0, 0] = 100:", m[0], "while row taken before is still", row)

# -- devices -----------------------------------------------------------------------------------
print("default device:", ef.default_device())
with ef.device("cpu"):                               # ops with no tensor input land here
    z = ef.zeros(3)
print("z lives on", z.device)
print(ef.backends())                                 # installed backends: name, device type, version, available + reason

# -- errors say what went wrong and what would be valid -----------------------------------------
try:
    ef.matmul(ef.ones((2, 3)), ef.ones((2, 3)))
except ef.ShapeError as err:                         # also a ValueError
    print(f"{type(err).__name__}: {err}")
try:
    ef.asarray([1, 2], dtype=ef.uint64) + ef.asarray([1, 2], dtype=ef.int8)
except ef.DTypeError as err:                         # also a TypeError
    print(f"{type(err).__name__}: {err}")
