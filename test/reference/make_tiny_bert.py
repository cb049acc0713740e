#!/usr/bin/python3
"""Writes a tiny random BERT checkpoint folder in Hugging Face layout, for tests.

Usage: /usr/bin/python3 test/reference/make_tiny_bert.py OUT_DIR [--layers 2] [--hidden 32]
       [--heads 4] [--intermediate 64] [--positions 64] [--types 2] [--seed 0]
       [--prefix bert|none] [--pooler] [--mlm-head] [--old-ln-names] [--dtype F32|F16|BF16]
       [--shards N]
Writes config.json, vocab.txt (special tokens, a few words, letters and ## pieces),
tokenizer_config.json and model.safetensors (or N shards plus model.safetensors.index.json).
Weights are random with a larger spread than BERT's init (std 0.2) so that every parameter
visibly changes the output.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

WORDS = ('the a an and of to in is it on cat dog sat mat hello world good bad movie great film '
         'was not very i you he she we they this that what how why play music weather today').split()


def vocab():
    toks = ['[PAD]', '[unused0]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '!', '?', "'"]
    toks += WORDS
    toks += [chr(c) for c in range(ord('a'), ord('z') + 1)]
    toks += ['##' + chr(c) for c in range(ord('a'), ord('z') + 1)]
    toks += [str(d) for d in range(10)]
    return toks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--hidden', type=int, default=32)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--intermediate', type=int, default=64)
    ap.add_argument('--positions', type=int, default=64)
    ap.add_argument('--types', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--prefix', choices=['bert', 'none'], default='bert')
    ap.add_argument('--pooler', action='store_true')
    ap.add_argument('--mlm-head', action='store_true')
    ap.add_argument('--old-ln-names', action='store_true')
    ap.add_argument('--dtype', choices=['F32', 'F16', 'BF16'], default='F32')
    ap.add_argument('--shards', type=int, default=1)
    ap.add_argument('--act', default='gelu')
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    V = vocab()
    H, I, P, T = a.hidden, a.intermediate, a.positions, a.types

    def rnd(*shape, mean=0.0, std=0.2):
        return (mean + std * rng.standard_normal(shape)).astype(np.float32)

    pre = 'bert.' if a.prefix == 'bert' else ''
    g, b = ('gamma', 'beta') if a.old_ln_names else ('weight', 'bias')
    t = {}
    t[pre + 'embeddings.word_embeddings.weight'] = rnd(len(V), H, std=0.5)
    t[pre + 'embeddings.position_embeddings.weight'] = rnd(P, H)
    t[pre + 'embeddings.token_type_embeddings.weight'] = rnd(T, H)
    t[pre + f'embeddings.LayerNorm.{g}'] = rnd(H, mean=1.0, std=0.1)
    t[pre + f'embeddings.LayerNorm.{b}'] = rnd(H, std=0.1)
    for i in range(a.layers):
        p = f'{pre}encoder.layer.{i}.'
        for n in ('query', 'key', 'value'):
            t[p + f'attention.self.{n}.weight'] = rnd(H, H)
            t[p + f'attention.self.{n}.bias'] = rnd(H, std=0.1)
        t[p + 'attention.output.dense.weight'] = rnd(H, H)
        t[p + 'attention.output.dense.bias'] = rnd(H, std=0.1)
        t[p + f'attention.output.LayerNorm.{g}'] = rnd(H, mean=1.0, std=0.1)
        t[p + f'attention.output.LayerNorm.{b}'] = rnd(H, std=0.1)
        t[p + 'intermediate.dense.weight'] = rnd(I, H)
        t[p + 'intermediate.dense.bias'] = rnd(I, std=0.1)
        t[p + 'output.dense.weight'] = rnd(H, I)
        t[p + 'output.dense.bias'] = rnd(H, std=0.1)
        t[p + f'output.LayerNorm.{g}'] = rnd(H, mean=1.0, std=0.1)
        t[p + f'output.LayerNorm.{b}'] = rnd(H, std=0.1)
    if a.pooler:
        t[pre + 'pooler.dense.weight'] = rnd(H, H)
        t[pre + 'pooler.dense.bias'] = rnd(H, std=0.1)
    if a.mlm_head:
        t['cls.predictions.transform.dense.weight'] = rnd(H, H)
        t['cls.predictions.transform.dense.bias'] = rnd(H, std=0.1)
        t[f'cls.predictions.transform.LayerNorm.{g}'] = rnd(H, mean=1.0, std=0.1)
        t[f'cls.predictions.transform.LayerNorm.{b}'] = rnd(H, std=0.1)
        t['cls.predictions.bias'] = rnd(len(V), std=0.1)

    if a.dtype != 'F32':
        # Store rounded, and keep what the reader will see (the rounded values) as the truth.
        dtypes = {k: a.dtype for k in t}
    else:
        dtypes = {}

    os.makedirs(a.out, exist_ok=True)
    arch = 'BertForMaskedLM' if a.mlm_head else 'BertModel'
    cfg = {
        'architectures': [arch], 'model_type': 'bert', 'vocab_size': len(V), 'hidden_size': H,
        'num_hidden_layers': a.layers, 'num_attention_heads': a.heads, 'intermediate_size': I,
        'hidden_act': a.act, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
        'max_position_embeddings': P, 'type_vocab_size': T, 'initializer_range': 0.02,
        'layer_norm_eps': 1e-12, 'pad_token_id': 0, 'position_embedding_type': 'absolute',
    }
    with open(os.path.join(a.out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(a.out, 'vocab.txt'), 'w') as f:
        f.write(''.join(v + '\n' for v in V))
    with open(os.path.join(a.out, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True, 'model_max_length': P, 'tokenizer_class': 'BertTokenizer'}, f)
    names = list(t)
    if a.shards <= 1:
        st_io.write(os.path.join(a.out, 'model.safetensors'), t, {'format': 'pt'}, dtypes)
    else:
        weight_map = {}
        per = -(-len(names) // a.shards)
        for s in range(a.shards):
            fn = f'model-{s + 1:05d}-of-{a.shards:05d}.safetensors'
            part = {k: t[k] for k in names[s * per:(s + 1) * per]}
            st_io.write(os.path.join(a.out, fn), part, {'format': 'pt'}, dtypes)
            weight_map.update({k: fn for k in part})
        total = sum(v.nbytes for v in t.values())
        with open(os.path.join(a.out, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)


if __name__ == '__main__':
    main()
