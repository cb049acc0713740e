#!/usr/bin/env python3
"""PyTorch reference for `slimtext bench engine`: one full training step (forward, backward, AdamW)
of one BERT post-LayerNorm encoder layer, timed the same way as slimtext's. Prints JSON.

Run with Debian's python3 (python3-torch): /usr/bin/python3 bench/torch_layer_step.py --threads 2
"""
import argparse, json, math, os, sys, time


def _threads_from_argv(default=2):
    argv = sys.argv
    return int(argv[argv.index('--threads') + 1]) if '--threads' in argv[:-1] else default


# torch.set_num_threads governs ATen's OpenMP pool only; Debian's torch does its matrix products in
# OpenBLAS (pthreads build), whose own pool would still use every core. Both must be capped before
# torch loads, or "--threads 1" runs its GEMMs on two cores.
for _var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS'):
    os.environ.setdefault(_var, str(_threads_from_argv()))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Layer(nn.Module):
    def __init__(self, h, heads, inter, p):
        super().__init__()
        self.h, self.heads, self.p = h, heads, p
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.i = nn.Linear(h, inter)
        self.out = nn.Linear(inter, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, mask):  # x (B, T, H), mask (B, 1, 1, T) additive
        B, T, H = x.shape
        d = H // self.heads
        def split(t):
            return t.view(B, T, self.heads, d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        s = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        a = F.dropout(torch.softmax(s, -1), self.p, self.training)
        c = (a @ v).transpose(1, 2).reshape(B, T, H)
        x = self.ln1(x + F.dropout(self.o(c), self.p, self.training))
        f = self.out(F.gelu(self.i(x)))
        return self.ln2(x + F.dropout(f, self.p, self.training))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--seq', type=int, default=64)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--inter', type=int, default=1024)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    layer = Layer(a.hidden, a.heads, a.inter, 0.1)
    layer.train()
    opt = torch.optim.AdamW(layer.parameters(), lr=1e-4, weight_decay=0.01)
    x = torch.randn(a.batch, a.seq, a.hidden)
    target = torch.randn(a.batch, a.seq, a.hidden)
    mask = torch.zeros(a.batch, 1, 1, a.seq)
    times = []
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(layer(x, mask), target)
        loss.backward()
        opt.step()
        dt = (time.perf_counter() - t0) * 1000
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    print(json.dumps({
        'framework': f'pytorch {torch.__version__}', 'threads': a.threads,
        'shape': {'batch': a.batch, 'seq': a.seq, 'hidden': a.hidden, 'heads': a.heads, 'intermediate': a.inter},
        'layer_step_ms': times[len(times) // 2], 'layer_step_ms_min': times[0], 'steps': a.steps,
        'cpu_ms_per_step': (time.process_time() - c0) * 1000 / a.steps,
    }))


if __name__ == '__main__':
    main()
