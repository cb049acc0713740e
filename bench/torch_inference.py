#!/usr/bin/python3
"""PyTorch side of bench/inference.ts: the BERT encoder as an nn.Module with PyTorch's own fused
functional ops (F.linear, F.layer_norm, F.gelu, F.softmax, as Hugging Face's BertModel uses them),
exported to ONNX for onnxruntime-node, then timed on request.

Usage: /usr/bin/python3 bench/torch_inference.py MODEL_DIR DATA.json ONNX_OUT
  DATA.json: {"batches": [{"ids": [[...]], "mask": [[...]]}, ...], "singles": [[...], ...]}
  Writes ONNX_OUT, prints {"ready": true, "torch": VERSION}, then answers each stdin line
  {"threads": N, "what": "throughput" | "latency" | "outputs"} with one JSON line.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
from bert_ref import load  # noqa: E402  (reads the checkpoint with the test suite's safetensors reader)


class Bert(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        self.w = {k: torch.nn.Parameter(v.float().contiguous(), requires_grad=False) for k, v in w.items()}
        for i, (k, v) in enumerate(self.w.items()):
            self.register_parameter(f'p{i}', v)

    def lin(self, x, p):
        return F.linear(x, self.w[p + '.weight'], self.w[p + '.bias'])

    def ln(self, x, p):
        return F.layer_norm(x, (self.cfg['hidden_size'],), self.w[p + '.weight'], self.w[p + '.bias'], self.cfg.get('layer_norm_eps', 1e-12))

    def forward(self, ids, mask):
        cfg, w = self.cfg, self.w
        B, T = ids.shape
        H = cfg['hidden_size']
        nh = cfg['num_attention_heads']
        hd = H // nh
        pos = torch.arange(T).unsqueeze(0)
        x = w['embeddings.word_embeddings.weight'][ids] + w['embeddings.position_embeddings.weight'][pos] \
            + w['embeddings.token_type_embeddings.weight'][0]
        x = self.ln(x, 'embeddings.LayerNorm')
        bias = (1.0 - mask.to(x.dtype))[:, None, None, :] * -10000.0
        for i in range(cfg['num_hidden_layers']):
            p = f'encoder.layer.{i}.'
            q = self.lin(x, p + 'attention.self.query').view(B, T, nh, hd).transpose(1, 2)
            k = self.lin(x, p + 'attention.self.key').view(B, T, nh, hd).transpose(1, 2)
            v = self.lin(x, p + 'attention.self.value').view(B, T, nh, hd).transpose(1, 2)
            s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + bias
            ctx = torch.matmul(F.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, T, H)
            x = self.ln(self.lin(ctx, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
            h = F.gelu(self.lin(x, p + 'intermediate.dense'))
            x = self.ln(self.lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
        return x


def main():
    model_dir, data_path, onnx_out = sys.argv[1:4]
    cfg, w = load(model_dir, torch.float32)
    model = Bert(cfg, w).eval()
    with open(data_path) as f:
        data = json.load(f)
    batches = [(torch.tensor(b['ids'], dtype=torch.long), torch.tensor(b['mask'], dtype=torch.long)) for b in data['batches']]
    singles = [torch.tensor([s], dtype=torch.long) for s in data['singles']]
    ex = batches[0]
    with torch.no_grad():
        torch.onnx.export(model, (ex[0][:2], ex[1][:2]), onnx_out, input_names=['input_ids', 'attention_mask'],
                          output_names=['last_hidden_state'], opset_version=14,
                          dynamic_axes={'input_ids': {0: 'b', 1: 't'}, 'attention_mask': {0: 'b', 1: 't'}, 'last_hidden_state': {0: 'b', 1: 't'}})
    print(json.dumps({'ready': True, 'torch': torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(int(req['threads']))
        with torch.inference_mode():
            if req['what'] == 'throughput':
                model(singles[0], torch.ones_like(singles[0]))  # warm-up
                n = sum(b[0].shape[0] for b in batches)
                t0 = time.perf_counter()
                for ids, mask in batches:
                    model(ids, mask)
                secs = time.perf_counter() - t0
                print(json.dumps({'texts_per_s': n / secs}), flush=True)
            elif req['what'] == 'latency':
                model(singles[0], torch.ones_like(singles[0]))
                ms = []
                for ids in singles:
                    t0 = time.perf_counter()
                    model(ids, torch.ones_like(ids))
                    ms.append((time.perf_counter() - t0) * 1000)
                ms.sort()
                print(json.dumps({'p50_ms': ms[len(ms) // 2]}), flush=True)
            else:
                ids, mask = batches[0]
                out = model(ids, mask)
                print(json.dumps({'first': out[0, 0, :8].tolist()}), flush=True)


if __name__ == '__main__':
    main()
