#!/usr/bin/python3
"""Compares `slimtext encode --json` output with bert_ref.py on the same token ids.

Usage: slimtext encode --model DIR --json < lines.txt > out.jsonl
       /usr/bin/python3 test/reference/compare_encode.py DIR out.jsonl
Prints {"lines": n, "tokens": n, "max_abs_diff": x, "mean_abs_diff": x}; exits 1 if max >= 1e-4.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_ref  # noqa: E402

model_dir, path = sys.argv[1], sys.argv[2]
cfg, w = bert_ref.load(model_dir, torch.float64)
worst, total, n_tok, rows = 0.0, 0.0, 0, 0
with open(path) as f, torch.no_grad():
    for line in f:
        r = json.loads(line)
        ids = torch.tensor([r['ids']], dtype=torch.long)
        h, _ = bert_ref.encode(cfg, w, ids, torch.ones_like(ids), torch.zeros_like(ids))
        d = np.abs(np.array(r['last_hidden_state'], dtype=np.float64) - h[0].numpy())
        worst = max(worst, float(d.max()))
        total += float(d.sum())
        n_tok += len(r['ids'])
        rows += 1
print(json.dumps({'lines': rows, 'tokens': n_tok, 'max_abs_diff': worst, 'mean_abs_diff': total / max(1, n_tok * cfg['hidden_size'])}))
sys.exit(0 if worst < 1e-4 else 1)
