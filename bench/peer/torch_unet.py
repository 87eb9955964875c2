#!/usr/bin/env python3
"""Reference timing of the 'course' U-Net in PyTorch (CPU), the peer that the project's
training step is compared against.

Architecture (Keras names from the Deep Learning Specialization U-Net, input 96x128x3):
  enc1..enc4: Conv3x3(F*2^i, relu) x2 [+ Dropout(0.3) on enc4] -> MaxPool2  (skip = before pool)
  bottleneck: Conv3x3(16F, relu) x2 + Dropout(0.3)
  dec4..dec1: ConvTranspose3x3 stride 2 'same' (F*2^i) -> concat skip -> Conv3x3(relu) x2
  head:       Conv3x3(F, relu) -> Conv1x1(n_classes)   (logits; softmax cross-entropy)
With F=32, 23 classes this has 8,640,471 parameters; with F=16, 2,161,399.

Run with Debian's PyTorch:  apt-get install -y python3-torch ; /usr/bin/python3 torch_unet.py --filters 16
Prints one JSON line: parameters, median forward and train-step milliseconds (Adam, batch as given).

unet-transfer's copy of ../shared/reference/torch_unet.py for `unet-transfer bench --peer`; the changes:
it also prints the process's peak resident memory (peak_rss_mb), and --bf16 runs the forward pass and the
loss under torch.autocast('cpu', dtype=torch.bfloat16), --serve answers `steps N` / `forward N` on stdin; the
timing lives in step_timing.py, shared with encoder_unet.py.
"""
import argparse, json, os, sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_timing import peak_rss_mb, serve, time_step_and_forward  # noqa: E402


def double_conv(cin, cout, dropout=0.0):
    layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class CourseUNet(nn.Module):
    def __init__(self, f=32, n_classes=23):
        super().__init__()
        self.enc = nn.ModuleList([double_conv(3, f), double_conv(f, 2 * f), double_conv(2 * f, 4 * f),
                                  double_conv(4 * f, 8 * f, 0.3)])
        self.bottleneck = double_conv(8 * f, 16 * f, 0.3)
        chans = [8 * f, 4 * f, 2 * f, f]
        ins = [16 * f, 8 * f, 4 * f, 2 * f]
        # 'same' transposed conv, stride 2: output = 2 * input
        self.up = nn.ModuleList([nn.ConvTranspose2d(i, c, 3, 2, padding=1, output_padding=1) for i, c in zip(ins, chans)])
        self.dec = nn.ModuleList([double_conv(2 * c, c) for c in chans])
        self.head = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.Conv2d(f, n_classes, 1))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.up, self.dec, reversed(skips)):
            x = block(torch.cat([up(x), skip], 1))
        return self.head(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--filters", type=int, default=16)
    p.add_argument("--classes", type=int, default=23)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--height", type=int, default=96)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="autocast the forward pass and loss to bfloat16")
    p.add_argument("--serve", action="store_true", help="answer `steps N` / `forward N` on stdin (step_timing.serve)")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = CourseUNet(a.filters, a.classes)
    info = {"peer": "pytorch", "version": torch.__version__, "threads": a.threads,
            "parameters": sum(p.numel() for p in model.parameters()),
            "filters": a.filters, "batch": a.batch, "height": a.height, "width": a.width,
            "classes": a.classes, "precision": "autocast-bf16" if a.bf16 else "fp32"}
    if a.serve:
        serve(model, a.classes, a.batch, a.height, a.width, a.warmup, a.bf16, lambda: info)
        return
    step_ms, fwd_ms = time_step_and_forward(model, a.classes, a.batch, a.height, a.width, a.steps, a.warmup, a.bf16)
    print(json.dumps({**info, "step_ms": round(step_ms, 1), "forward_ms": round(fwd_ms, 1), "peak_rss_mb": peak_rss_mb()}))

if __name__ == "__main__":
    main()
