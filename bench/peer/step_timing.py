"""The peers' yardstick: milliseconds of an Adam training step (cross-entropy on random labels) and of an
inference forward pass, on one random batch, after a warm-up. Shared by torch_unet.py and encoder_unet.py so
that both peers time the same thing. bf16=True runs the forward pass and the loss under
torch.autocast('cpu', dtype=torch.bfloat16): PyTorch's mixed precision (bf16 convolutions, fp32 weights and
optimizer; the backward pass follows the autocast forward's dtypes).

Two ways to run: time_step_and_forward (warm up, then the medians of `steps` steps and forward passes), or
serve (--serve: warm up, print {"ready": true}, then answer `steps N` / `forward N` lines on stdin with the
times of each one and `rss` with the peak RSS so far, and at the end of stdin print the final JSON line). `unet-transfer bench --peer` serves, so
that it can alternate rounds of its own steps and the peer's on a shared machine whose speed drifts."""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn


class StepTimer:
    def __init__(self, model, classes, batch, height, width, bf16=False):
        self.model = model
        self.bf16 = bf16
        self.opt = torch.optim.Adam(model.parameters(), 1e-3)
        self.loss_fn = nn.CrossEntropyLoss()
        self.x = torch.randn(batch, 3, height, width)
        self.y = torch.randint(0, classes, (batch, height, width))

    def autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def step(self):
        self.opt.zero_grad()
        with self.autocast():
            loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()

    def steps(self, n):
        """The times of n training steps (ms)."""
        self.model.train()
        return [timed(self.step) for _ in range(n)]

    def forwards(self, n):
        """The times of n inference forward passes (ms)."""
        self.model.eval()
        with torch.no_grad(), self.autocast():
            return [timed(lambda: self.model(self.x)) for _ in range(n)]


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def time_step_and_forward(model, classes, batch, height, width, steps, warmup, bf16=False):
    timer = StepTimer(model, classes, batch, height, width, bf16)
    timer.steps(warmup)
    step_ms = statistics.median(timer.steps(steps))
    fwd_ms = statistics.median(timer.forwards(steps))
    return step_ms, fwd_ms


def serve(model, classes, batch, height, width, warmup, bf16, final):
    """Answers `steps N` and `forward N` on stdin (one JSON line each: {"times_ms": [...]}) and `rss` (the peak RSS
    so far); at the end of stdin prints final() with the peak RSS added."""
    timer = StepTimer(model, classes, batch, height, width, bf16)
    timer.steps(warmup)
    reply({"ready": True})
    for line in sys.stdin:
        words = line.split()
        if words == ["rss"]:
            reply({"peak_rss_mb": peak_rss_mb()})
            continue
        if len(words) != 2 or words[0] not in ("steps", "forward") or not words[1].isdigit():
            reply({"error": "expected `steps N` or `forward N`, got %r" % line.strip()})
            continue
        n = int(words[1])
        times = timer.steps(n) if words[0] == "steps" else timer.forwards(n)
        reply({"times_ms": [round(t, 2) for t in times]})
    reply({**final(), "peak_rss_mb": peak_rss_mb()})


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def peak_rss_mb():
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec, so a peer
    spawned by a 1.5 GB Node process reported at least 1.5 GB whatever it used itself."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
