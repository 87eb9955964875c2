"""The peers' yardstick: median milliseconds of an Adam training step (cross-entropy on random labels)
and of an inference forward pass, on one random batch, after a warm-up. Shared by torch_unet.py and
encoder_unet.py so that both peers time the same thing. bf16=True runs the forward pass and the loss under
torch.autocast('cpu', dtype=torch.bfloat16): PyTorch's mixed precision (bf16 convolutions, fp32 weights and
optimizer; the backward pass follows the autocast forward's dtypes)."""
import resource
import statistics
import time

import torch
import torch.nn as nn


def time_step_and_forward(model, classes, batch, height, width, steps, warmup, bf16=False):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, height, width)
    y = torch.randint(0, classes, (batch, height, width))

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def step():
        opt.zero_grad()
        with autocast():
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def timed(fn, n):
        out = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
        return statistics.median(out)

    model.train()
    for _ in range(warmup):
        step()
    step_ms = timed(step, steps)
    model.eval()
    with torch.no_grad(), autocast():
        fwd_ms = timed(lambda: model(x), steps)
    return step_ms, fwd_ms


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
