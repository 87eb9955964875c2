"""Full-size torchvision -> unet-transfer encoder parity check (issue 15): for resnet18, resnet34 and
mobilenet_v2, torchvision's network at full width (random init, BatchNorm statistics made non-trivial,
or a real ImageNet state dict given with --weights), torch.saved, imported with
`unet-transfer model import FILE --arch ...`, and the encoder's five feature maps (strides 2..32; smp's
ResNet features, the TF tutorial's MobileNetV2 taps) compared on the same input, eval mode, to 1e-4
relative (max |ours - torch| <= 1e-4 * max |torch| per map).

Run from the repository root after `npx tsc -p .`:
    /usr/bin/python3 bench/torch_import/encoder_compare.py [--archs resnet18,resnet34,mobilenet_v2] [--size 128]
        [--weights resnet34=resnet34-b627a593.pth] [--backend cpu|native]
Needs Debian's python3-torch and python3-torchvision; not part of the default test run."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'peer'))
from compare import randomize_batchnorm  # noqa: E402
from encoder_unet import MobileNetV2Encoder, ResNetEncoder  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
TOL = 1e-4
OUR_ARCH = {'resnet18': 'resnet18', 'resnet34': 'resnet34', 'mobilenet_v2': 'mobilenetv2'}


def check(name, size, tmp, backend, weights):
    gen = torch.Generator().manual_seed(3)
    backbone = getattr(torchvision.models, name)()
    if weights:
        backbone.load_state_dict(torch.load(weights, map_location='cpu'))
        ckpt = weights
    else:
        randomize_batchnorm(backbone, gen)
        ckpt = os.path.join(tmp, f'{name}.pth')
        torch.save(backbone.state_dict(), ckpt)
    backbone.eval()
    x = torch.randn(1, 3, size, size, generator=gen)
    xin = os.path.join(tmp, f'x_{name}.bin')
    x.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(xin)
    enc = (ResNetEncoder if name.startswith('resnet') else MobileNetV2Encoder)(backbone).eval()
    with torch.no_grad():
        refs = [f.permute(0, 2, 3, 1).numpy() for f in enc(x)]
    out_dir = os.path.join(tmp, f'model_{name}')
    cli = os.path.join(ROOT, 'bin', 'unet-transfer.js')
    r = subprocess.run(['node', cli, 'model', 'import', ckpt, '--arch', OUR_ARCH[name], '--input', f'{size}x{size}', '--out', out_dir, '--json'],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return False, f'import failed (exit {r.returncode}): {r.stderr.strip() or r.stdout.strip()}'
    report = json.loads(r.stdout)
    yout = os.path.join(tmp, f'y_{name}.bin')
    r = subprocess.run(['node', os.path.join(HERE, 'encoder_forward.mjs'), out_dir, xin, yout, backend], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return False, f'forward failed (exit {r.returncode}): {r.stderr.strip()}'
    ours = np.fromfile(yout, dtype='<f4')
    at, worst, ok = 0, 0.0, True
    for ref in refs:
        got = ours[at:at + ref.size].reshape(ref.shape)
        at += ref.size
        rel = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))
        worst = max(worst, rel)
        ok = ok and rel <= TOL
    ok = ok and at == ours.size and not report['missed']
    return ok, (f'{len(report["mapped"])} tensors mapped, {len(report["skipped"])} skipped, {len(report["missed"])} missed; '
                f'worst feature map max|diff|/max|torch| = {worst:.2g} (tolerance {TOL}); shapes {[list(r.shape[1:]) for r in refs]}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--archs', default='resnet18,resnet34,mobilenet_v2')
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--backend', default='cpu', choices=['cpu', 'native'])
    p.add_argument('--weights', action='append', default=[], help='NAME=FILE: a real torchvision state dict for NAME')
    a = p.parse_args()
    weights = dict(w.split('=', 1) for w in a.weights)
    failed = 0
    with tempfile.TemporaryDirectory(prefix='unet-enc-import-') as tmp:
        for name in a.archs.split(','):
            ok, msg = check(name, a.size, tmp, a.backend, weights.get(name))
            print(f'{"PASS" if ok else "FAIL"} torchvision {name} -> --arch {OUR_ARCH[name]} ({a.backend}, {a.size}x{a.size}): {msg}', flush=True)
            failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
