"""Writes the torchvision encoder fixtures of test/import/encoder_import.test.ts: for resnet34 and
mobilenet_v2, a torch.save'd state dict of torchvision's own classes (random init, BatchNorm statistics
made non-trivial, num_batches_tracked set) and the encoder's five feature maps (strides 2..32, eval mode)
on a fixed 64x64 input. To stay small (well under 5 MB together) the networks are narrow:
  resnet34:     torchvision.models.resnet.ResNet(BasicBlock, [3, 4, 6, 3]) with its stem and stages rebuilt
                by the class's own _make_layer at widths 4, 4, 8, 16, 32 (torchvision hard-codes 64..512);
                fc is a Linear(32, 10), kept so that the import must skip it.
  mobilenet_v2: torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10).
Features are what bench/peer/encoder_unet.py taps (smp's ResNet features; the TF tutorial's MobileNetV2
taps). Output: test/fixtures/import/tv_<arch>.pth and tv_<arch>.features.json (shapes, NHWC) +
tv_<arch>.features.f32 (little-endian float32: the input, then the five maps, NHWC).

Run from the repository root:  /usr/bin/python3 bench/torch_import/make_encoder_fixture.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
from torchvision.models import mobilenet_v2
from torchvision.models.resnet import BasicBlock, ResNet

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'peer'))
from compare import randomize_batchnorm  # noqa: E402
from encoder_unet import MobileNetV2Encoder, ResNetEncoder  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))


def narrow_resnet34(w):
    m = ResNet(BasicBlock, [3, 4, 6, 3])
    m.inplanes = w
    m.conv1 = nn.Conv2d(3, w, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(w)
    m.layer1 = m._make_layer(BasicBlock, w, 3)
    m.layer2 = m._make_layer(BasicBlock, 2 * w, 4, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 4 * w, 6, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 8 * w, 3, stride=2)
    m.fc = nn.Linear(8 * w, 10)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')
    return m


def write(name, backbone, encoder_cls, gen):
    randomize_batchnorm(backbone, gen)
    backbone.eval()
    state = backbone.state_dict()
    out_dir = os.path.join(ROOT, 'test', 'fixtures', 'import')
    torch.save(state, os.path.join(out_dir, f'tv_{name}.pth'))
    x = torch.randn(1, 3, 64, 64, generator=gen)
    enc = encoder_cls(backbone).eval()
    with torch.no_grad():
        feats = enc(x)
    arrays = [x] + feats
    flat = torch.cat([a.permute(0, 2, 3, 1).reshape(-1) for a in arrays]).to(torch.float32)
    with open(os.path.join(out_dir, f'tv_{name}.features.f32'), 'wb') as f:
        f.write(flat.numpy().astype('<f4').tobytes())
    meta = {'arch': name, 'torch': torch.__version__, 'input_nhwc': list(x.permute(0, 2, 3, 1).shape),
            'features_nhwc': [list(a.permute(0, 2, 3, 1).shape) for a in feats], 'tensors': len(state)}
    with open(os.path.join(out_dir, f'tv_{name}.features.json'), 'w') as f:
        json.dump(meta, f)
    print(f'wrote tv_{name}.pth ({len(state)} tensors) and its features {meta["features_nhwc"]}')


def main():
    gen = torch.Generator().manual_seed(15)
    torch.manual_seed(15)
    write('resnet34', narrow_resnet34(4), ResNetEncoder, gen)
    write('mobilenet_v2', mobilenet_v2(width_mult=0.25, num_classes=10), MobileNetV2Encoder, gen)


if __name__ == '__main__':
    main()
