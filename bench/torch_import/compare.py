"""PyTorch -> unet-transfer import check (issue 8): builds a milesial/Pytorch-UNet in PyTorch (bilinear and
transposed up-sampling), gives its BatchNorms non-trivial statistics, torch.saves the state dict (with the
`mask_values` entry milesial's train.py adds), imports it with `unet-transfer model import`, runs both
forward passes on the same input (PyTorch in eval mode) and checks they agree to 1e-4.

Run from the repository root after `npx tsc -p .`:
    /usr/bin/python3 bench/torch_import/compare.py [--filters 8] [--size 32x48] [--modes transpose,bilinear] [--backend cpu|native]
Needs Debian's python3-torch; not part of the default test run."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from milesial_unet import UNet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TOL = 1e-4


def randomize_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.num_batches_tracked.fill_(123)


def check(mode, filters, classes, channels, h, w, tmp, backend):
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = UNet(channels, classes, bilinear=(mode == 'bilinear'), filters=filters)
    randomize_batchnorm(model, gen)
    model.eval()
    state = model.state_dict()
    state['mask_values'] = [0, 1, 2]
    ckpt = os.path.join(tmp, f'milesial_{mode}.pth')
    torch.save(state, ckpt)

    x = torch.randn(2, channels, h, w, generator=gen)
    with torch.no_grad():
        ref = model(x).numpy()  # NCHW
    xin = os.path.join(tmp, f'x_{mode}.bin')
    x.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(xin)

    out_dir = os.path.join(tmp, f'model_{mode}')
    cli = os.path.join(ROOT, 'bin', 'unet-transfer.js')
    r = subprocess.run(['node', cli, 'model', 'import', ckpt, '--arch', 'bn', '--input', f'{h}x{w}', '--out', out_dir, '--json'],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return False, f'import failed (exit {r.returncode}): {r.stderr.strip() or r.stdout.strip()}'
    report = json.loads(r.stdout)
    yout = os.path.join(tmp, f'y_{mode}.bin')
    r = subprocess.run(['node', os.path.join(ROOT, 'bench', 'torch_import', 'forward.mjs'), out_dir, xin, str(2), yout, backend],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return False, f'forward failed (exit {r.returncode}): {r.stderr.strip()}'
    ours = np.fromfile(yout, dtype='<f4').reshape(2, h, w, classes).transpose(0, 3, 1, 2)
    diff = float(np.abs(ours - ref).max())
    scale = float(np.abs(ref).max())
    ok = diff <= TOL
    return ok, (f'imported as upsample {report["options"]["upsample"]}, {len(report["mapped"])} tensors mapped, {len(report["skipped"])} skipped, {len(report["missed"])} missed; '
                f'max |ours - torch| = {diff:.3g} (outputs up to {scale:.3g}), tolerance {TOL}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--filters', type=int, default=8)
    p.add_argument('--classes', type=int, default=3)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--size', default='32x48')
    p.add_argument('--modes', default='transpose,bilinear')
    p.add_argument('--backend', default='cpu', choices=['cpu', 'native'], help='TF.js backend of our forward pass')
    a = p.parse_args()
    h, w = (int(v) for v in a.size.split('x'))
    failed = 0
    with tempfile.TemporaryDirectory(prefix='unet-import-') as tmp:
        for mode in a.modes.split(','):
            ok, msg = check(mode, a.filters, a.classes, a.channels, h, w, tmp, a.backend)
            print(f'{"PASS" if ok else "FAIL"} milesial bn, {mode} up-sampling ({a.backend}): {msg}')
            failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
