"""Writes the milesial/Pytorch-UNet fixture of test/import/ for one up-sampling mode: a torch.save'd state
dict (filters 2, 1 input channel, 2 classes, He-initialised convs, BatchNorms with non-trivial statistics, milesial's
`mask_values` entry) and the PyTorch output (eval mode) on a fixed 16x16 input, NHWC, as JSON.

Run from the repository root:
    /usr/bin/python3 bench/torch_import/make_fixture.py bilinear
writes test/fixtures/import/milesial_f2_bilinear.pth and milesial_f2_bilinear.expected.json."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import randomize_batchnorm  # noqa: E402
from milesial_unet import UNet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else 'bilinear'
    if mode not in ('bilinear', 'transpose'):
        sys.exit(f'mode must be bilinear or transpose, got {mode!r}')
    name = f'milesial_f2_{mode}'
    out_dir = os.path.join(ROOT, 'test', 'fixtures', 'import')
    gen = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    model = UNet(1, 2, bilinear=(mode == 'bilinear'), filters=2)
    # He-initialised convs keep the activations' scale through the 18 convs (PyTorch's default init
    # shrinks them), so that the expected output varies enough over the image to catch a misplaced pixel.
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / (m.weight[0].numel())) ** 0.5)
    randomize_batchnorm(model, gen)
    model.eval()
    state = model.state_dict()
    state['mask_values'] = [0, 1]
    x = torch.randn(1, 1, 16, 16, generator=gen)
    with torch.no_grad():
        y = model(x)
    torch.save(state, os.path.join(out_dir, f'{name}.pth'))
    expected = {
        'input_nhwc': x.permute(0, 2, 3, 1).reshape(-1).tolist(),
        'output_nhwc': y.permute(0, 2, 3, 1).reshape(-1).tolist(),
        'shape_in': [1, 16, 16, 1],
        'shape_out': [1, 16, 16, 2],
        'parameters': sum(p.numel() for p in model.parameters()),
    }
    with open(os.path.join(out_dir, f'{name}.expected.json'), 'w') as f:
        json.dump(expected, f)
    print(f'wrote {name}.pth and {name}.expected.json ({expected["parameters"]} parameters)')


if __name__ == '__main__':
    main()
