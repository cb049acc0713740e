#!/usr/bin/python3
"""Prints a safetensors file as JSON, read with numpy (st_io.py), to check slimtext's writer:
{"metadata": {...}, "header_len": N, "offsets": {name: [b, e]}, "tensors": {name: {"dtype", "shape", "values" (non-finite as "Infinity", "-Infinity", "NaN"),
 and for F32 tensors also "as_f16" and "as_bf16": the values rounded as numpy/torch round them}}}.
Usage: /usr/bin/python3 test/reference/st_dump.py FILE
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402



def jsonable(arr):
    """Floats as JSON numbers; non-finite ones as the strings JavaScript's String() gives."""
    out = []
    for v in arr.astype(np.float64).ravel().tolist():
        out.append(v if np.isfinite(v) else ('NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')))
    return out


path = sys.argv[1]
with open(path, 'rb') as f:
    (n,) = struct.unpack('<Q', f.read(8))
    header = json.loads(f.read(n))
tensors, meta = st_io.read(path)
out = {'metadata': meta, 'header_len': n, 'offsets': {}, 'tensors': {}}
for name, arr in tensors.items():
    e = header[name]
    out['offsets'][name] = e['data_offsets']
    d = {'dtype': e['dtype'], 'shape': e['shape'], 'values': jsonable(arr)}
    if e['dtype'] == 'F32':
        d['as_f16'] = jsonable(arr.astype(np.float16))
        d['as_bf16'] = jsonable(st_io.bf16_to_f32(st_io.f32_to_bf16(arr)))
    out['tensors'][name] = d
json.dump(out, sys.stdout)
