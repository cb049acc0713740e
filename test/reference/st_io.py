"""Minimal safetensors reader/writer over json + numpy.

Written by hand because the `safetensors` Python package is not installed here (only Debian's
torch + numpy are); it is also independent of slimtext's TypeScript implementation, which is the
point of using it in tests.
"""
import json
import struct

import numpy as np

# safetensors dtype -> numpy dtype (BF16 has no numpy dtype: it is handled as raw uint16 bits).
NP = {
    'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
    'I8': 'i1', 'U8': 'u1', 'U16': '<u2', 'U32': '<u4', 'BOOL': '?',
}


def bf16_to_f32(bits):
    return (bits.astype('<u4') << 16).view('<f4')


def f32_to_bf16(x):
    """Round to nearest even, as torch does."""
    u = np.asarray(x, dtype='<f4').view('<u4').astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype('<u2')


def read(path):
    """-> (dict name -> float/int numpy array, metadata dict). BF16 becomes float32."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    data = raw[8 + n:]
    meta = header.pop('__metadata__', {})
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        buf = data[b:end]
        if e['dtype'] == 'BF16':
            arr = bf16_to_f32(np.frombuffer(buf, dtype='<u2'))
        else:
            arr = np.frombuffer(buf, dtype=NP[e['dtype']])
        out[name] = arr.reshape(e['shape']).copy()
    return out, meta


def write(path, tensors, metadata=None, dtypes=None):
    """tensors: dict name -> numpy array (written in dict order, no alignment games).
    dtypes: optional dict name -> safetensors dtype to store (e.g. 'BF16', 'F16')."""
    dtypes = dtypes or {}
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    chunks = []
    off = 0
    for name, arr in tensors.items():
        dt = dtypes.get(name)
        if dt is None:
            dt = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64', np.dtype('float16'): 'F16',
                  np.dtype('int64'): 'I64', np.dtype('int32'): 'I32', np.dtype('int8'): 'I8',
                  np.dtype('uint8'): 'U8', np.dtype('bool'): 'BOOL'}[arr.dtype]
        if dt == 'BF16':
            b = f32_to_bf16(arr).tobytes()
        else:
            b = np.ascontiguousarray(arr, dtype=NP[dt]).tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)
