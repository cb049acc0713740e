#!/usr/bin/python3
"""Writes test/fixtures/python-dtypes.safetensors: one tensor per dtype, with values exactly
representable in that dtype, written by numpy (st_io.py) rather than by slimtext. test/io/
safetensors.test.ts holds the same values. `i8_odd` (3 bytes) comes right before `f32_after_odd`,
so that tensor starts at an offset that is not a multiple of 4 (the reader must copy it).
Usage: /usr/bin/python3 test/reference/make_dtype_fixture.py [OUT]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'fixtures', 'python-dtypes.safetensors')
t = {
    'f32': (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1),
    'f16': np.array([1.0, -2.5, 65504.0, 2.0 ** -24, 2.0 ** -14, np.inf, -0.0], dtype=np.float16),
    'bf16': np.array([[1.0, -3.140625], [2.0 ** 100, -0.0]], dtype=np.float32),
    'f64': np.array([[1.5, -2.25], [0.125, 7.0]], dtype=np.float64),
    'i64': np.array([1, -2, 2 ** 31 - 1, -2 ** 31], dtype=np.int64),
    'i32': np.array([7, -8], dtype=np.int32),
    'u8': np.array([0, 255], dtype=np.uint8),
    'bool': np.array([True, False, True]),
    'i8_odd': np.array([-128, 0, 127], dtype=np.int8),
    'f32_after_odd': np.array([0.25, -4.0, 3.0], dtype=np.float32),
    'empty': np.zeros((0, 3), dtype=np.float32),
}
st_io.write(out, t, {'format': 'pt', 'writer': 'numpy st_io.py'}, {'bf16': 'BF16'})
