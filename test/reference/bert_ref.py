#!/usr/bin/python3
"""Independent PyTorch reference BERT encoder, to check slimtext's against.

Usage: /usr/bin/python3 test/reference/bert_ref.py MODEL_DIR [--dtype float64|float32] < ids.json
stdin:  a JSON list of token-id lists (sequences are run one at a time, unpadded), or an object
        {"ids": [[...], ...], "attention_mask": [[...], ...]?, "token_type_ids": [[...], ...]?}
        whose rows all have the same length (a padded batch, run as one batch).
stdout: {"last_hidden_state": [seq][token][hidden], "pooler_output": [seq][hidden] or null}

Written from the BERT paper and the Hugging Face checkpoint layout, with torch's functional ops
only (no nn.TransformerEncoder, no transformers package, which is not installed here); safetensors
is parsed by hand in st_io.py. Computes in float64 by default so that it is a tighter reference
than the float32 implementation under test.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402


def load(model_dir, dtype):
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    index = os.path.join(model_dir, 'model.safetensors.index.json')
    tensors = {}
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)['weight_map'].values()))
        for fn in files:
            tensors.update(st_io.read(os.path.join(model_dir, fn))[0])
    else:
        tensors = st_io.read(os.path.join(model_dir, 'model.safetensors'))[0]
    w = {}
    for k, v in tensors.items():
        if k.startswith('bert.'):
            k = k[len('bert.'):]
        k = k.replace('LayerNorm.gamma', 'LayerNorm.weight').replace('LayerNorm.beta', 'LayerNorm.bias')
        w[k] = torch.from_numpy(v.astype('float64')).to(dtype)
    return cfg, w


def act(name):
    if name == 'gelu':
        return lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ('gelu_new', 'gelu_pytorch_tanh'):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == 'relu':
        return torch.relu
    raise SystemExit(f'unsupported hidden_act {name}')


def linear(x, w, prefix):
    return x @ w[prefix + '.weight'].T + w[prefix + '.bias']


def layer_norm(x, w, prefix, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w[prefix + '.weight'] + w[prefix + '.bias']


def encode(cfg, w, ids, mask, types):
    """ids, mask, types: (B, T) long tensors -> (last_hidden_state (B, T, H), pooler (B, H) or None)."""
    B, T = ids.shape
    H = cfg['hidden_size']
    nh = cfg['num_attention_heads']
    hd = H // nh
    eps = cfg.get('layer_norm_eps', 1e-12)
    f = act(cfg.get('hidden_act', 'gelu'))
    pos = torch.arange(T).unsqueeze(0).expand(B, T)
    x = (w['embeddings.word_embeddings.weight'][ids]
         + w['embeddings.position_embeddings.weight'][pos]
         + w['embeddings.token_type_embeddings.weight'][types])
    x = layer_norm(x, w, 'embeddings.LayerNorm', eps)
    # Padding keys get -10000 added to their scores, as Hugging Face's extended attention mask does.
    bias = (1.0 - mask.to(x.dtype))[:, None, None, :] * -10000.0
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        def heads(t):
            return t.view(B, T, nh, hd).permute(0, 2, 1, 3)
        q = heads(linear(x, w, p + 'attention.self.query'))
        k = heads(linear(x, w, p + 'attention.self.key'))
        v = heads(linear(x, w, p + 'attention.self.value'))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias
        ctx = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, T, H)
        x = layer_norm(linear(ctx, w, p + 'attention.output.dense') + x, w, p + 'attention.output.LayerNorm', eps)
        inter = f(linear(x, w, p + 'intermediate.dense'))
        x = layer_norm(linear(inter, w, p + 'output.dense') + x, w, p + 'output.LayerNorm', eps)
    pooled = None
    if 'pooler.dense.weight' in w:
        pooled = torch.tanh(linear(x[:, 0], w, 'pooler.dense'))
    return x, pooled


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_dir')
    ap.add_argument('--dtype', choices=['float64', 'float32'], default='float64')
    a = ap.parse_args()
    dtype = torch.float64 if a.dtype == 'float64' else torch.float32
    cfg, w = load(a.model_dir, dtype)
    inp = json.load(sys.stdin)
    hidden, pooled = [], []
    with torch.no_grad():
        if isinstance(inp, list):
            for seq in inp:
                ids = torch.tensor([seq], dtype=torch.long)
                h, p = encode(cfg, w, ids, torch.ones_like(ids), torch.zeros_like(ids))
                hidden.append(h[0].tolist())
                pooled.append(None if p is None else p[0].tolist())
        else:
            ids = torch.tensor(inp['ids'], dtype=torch.long)
            mask = torch.tensor(inp['attention_mask'], dtype=torch.long) if 'attention_mask' in inp else torch.ones_like(ids)
            types = torch.tensor(inp['token_type_ids'], dtype=torch.long) if 'token_type_ids' in inp else torch.zeros_like(ids)
            h, p = encode(cfg, w, ids, mask, types)
            hidden = h.tolist()
            pooled = [None] * len(hidden) if p is None else p.tolist()
    has_pooler = any(p is not None for p in pooled)
    json.dump({'last_hidden_state': hidden, 'pooler_output': pooled if has_pooler else None}, sys.stdout)


if __name__ == '__main__':
    main()
