#!/usr/bin/env python3
"""The encoder U-Nets of unet-transfer built in PyTorch on Debian's torchvision (0.14) backbones, for
`unet-transfer bench --arch mobilenetv2|resnet18|resnet34 --peer`, the parameter-count check and the
import fixtures (bench/torch_import/make_encoder_fixture.py).

  resnet18/34:  segmentation_models.pytorch's Unet: torchvision ResNet (stem, layer1..4) as the
                encoder; decoder blocks nearest x2 -> cat([up, skip]) -> (conv3x3 no bias, BN, ReLU) x2
                with 256, 128, 64, 32, 16 channels (the last without a skip); a 3x3 segmentation head.
  mobilenetv2:  TensorFlow's segmentation tutorial on torchvision's mobilenet_v2 (symmetric padding,
                the flavour `model import` builds): taps block_1_expand_relu (features.2.conv.0),
                block_3 (features.4.conv.0), block_6 (features.7.conv.0), block_13 (features.14.conv.0),
                block_16_project (features.17.conv.2); pix2pix blocks ConvTranspose3x3 s2 (no bias) ->
                BN -> ReLU -> cat([up, skip]) with 512, 256, 128, 64 channels; ConvTranspose3x3 s2 to the
                classes. (BN epsilon 1e-3 / momentum 0.01 as Keras' in the decoder.)

Run: /usr/bin/python3 encoder_unet.py --arch resnet34 [--batch 8 --height 128 --width 128 --classes 23] [--bf16]
Prints one JSON line: parameters, buffers, median forward / Adam train-step ms, peak RSS (with --serve: answers
`steps N` / `forward N` on stdin, see step_timing.py).
"""
import argparse, json, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_timing import peak_rss_mb, serve, time_step_and_forward  # noqa: E402

MOBILENET_TAPS = [(2, 'conv.0'), (4, 'conv.0'), (7, 'conv.0'), (14, 'conv.0'), (17, 'conv.2')]


class ResNetEncoder(nn.Module):
    """smp's ResNetEncoder: features at strides 2 (stem ReLU), 4 (layer1), 8, 16, 32."""

    def __init__(self, backbone):
        super().__init__()
        del backbone.fc, backbone.avgpool  # as smp: the classifier is not part of the encoder
        self.b = backbone

    def forward(self, x):
        b = self.b
        s = b.relu(b.bn1(b.conv1(x)))
        l1 = b.layer1(b.maxpool(s))
        l2 = b.layer2(l1)
        l3 = b.layer3(l2)
        return [s, l1, l2, l3, b.layer4(l3)]

    def channels(self):
        b = self.b
        return [b.bn1.num_features] + [layer[-1].bn2.num_features for layer in (b.layer1, b.layer2, b.layer3, b.layer4)]


class MobileNetV2Encoder(nn.Module):
    """torchvision mobilenet_v2 features up to block_16_project (features.17.conv.2), tapped as the tutorial taps Keras'."""

    def __init__(self, backbone):
        super().__init__()
        self.features = backbone.features[:17]
        # block_16 up to its project conv: the tutorial taps before block_16_project_BN
        self.last = nn.Sequential(*list(backbone.features[17].conv)[:3])

    def forward(self, x):
        out = []
        for i, block in enumerate(self.features):
            if i in (2, 4, 7, 14):
                out.append(block.conv[0](x))  # the expand conv-BN-ReLU6: block_{i-1}_expand_relu
            x = block(x)
        out.append(self.last(x))
        return out

    def channels(self):
        f = self.features
        return [f[i].conv[0][0].out_channels for i in (2, 4, 7, 14)] + [self.last[2].out_channels]


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SmpDecoderBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + skip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class SmpUnet(nn.Module):
    def __init__(self, encoder, classes, filters=16):
        super().__init__()
        self.encoder = encoder
        ch = encoder.channels()
        outs = [filters * 2 ** k for k in (4, 3, 2, 1, 0)]
        ins = [ch[4]] + outs[:-1]
        skips = [ch[3], ch[2], ch[1], ch[0], 0]
        self.blocks = nn.ModuleList([SmpDecoderBlock(i, s, o) for i, s, o in zip(ins, skips, outs)])
        self.segmentation_head = nn.Conv2d(outs[-1], classes, 3, padding=1)

    def forward(self, x):
        f = self.encoder(x)
        x = f[4]
        for block, skip in zip(self.blocks, [f[3], f[2], f[1], f[0], None]):
            x = block(x, skip)
        return self.segmentation_head(x)


class Pix2PixUnet(nn.Module):
    def __init__(self, encoder, classes, filters=64):
        super().__init__()
        self.encoder = encoder
        ch = encoder.channels()
        outs = [filters * 2 ** k for k in (3, 2, 1, 0)]
        ins = [ch[4]] + [o + s for o, s in zip(outs[:-1], [ch[3], ch[2], ch[1]])]
        # Keras 'same' transposed conv, stride 2, kernel 3: padding 1 and one extra row/column at the end.
        self.up = nn.ModuleList([nn.Sequential(nn.ConvTranspose2d(i, o, 3, 2, padding=1, output_padding=1, bias=False),
                                               nn.BatchNorm2d(o, eps=1e-3, momentum=0.01), nn.ReLU(inplace=True)) for i, o in zip(ins, outs)])
        self.head = nn.ConvTranspose2d(outs[-1] + ch[0], classes, 3, 2, padding=1, output_padding=1)

    def forward(self, x):
        f = self.encoder(x)
        x = f[4]
        for up, skip in zip(self.up, [f[3], f[2], f[1], f[0]]):
            x = torch.cat([up(x), skip], 1)
        return self.head(x)


def build(arch, classes, backbone=None):
    if arch in ('resnet18', 'resnet34'):
        return SmpUnet(ResNetEncoder(backbone or getattr(torchvision.models, arch)()), classes)
    if arch == 'mobilenetv2':
        return Pix2PixUnet(MobileNetV2Encoder(backbone or torchvision.models.mobilenet_v2()), classes)
    raise SystemExit(f'unknown arch {arch}')


def counts(model):
    params = sum(p.numel() for p in model.parameters())
    # BatchNorm running statistics (what TF.js counts as non-trainable weights); not the step counters.
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith('num_batches_tracked'))
    return params, buffers


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--arch', required=True, choices=['mobilenetv2', 'resnet18', 'resnet34'])
    p.add_argument('--classes', type=int, default=23)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--height', type=int, default=128)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--count-only', action='store_true')
    p.add_argument('--bf16', action='store_true', help='autocast the forward pass and loss to bfloat16')
    p.add_argument('--serve', action='store_true', help='answer `steps N` / `forward N` on stdin (step_timing.serve)')
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = build(a.arch, a.classes)
    params, buffers = counts(model)
    if a.count_only:
        print(json.dumps({'arch': a.arch, 'classes': a.classes, 'parameters': params, 'buffers': buffers, 'total': params + buffers}))
        return
    info = {'peer': 'pytorch', 'version': torch.__version__, 'torchvision': torchvision.__version__, 'arch': a.arch,
            'threads': a.threads, 'parameters': params, 'buffers': buffers, 'batch': a.batch, 'height': a.height,
            'width': a.width, 'classes': a.classes, 'precision': 'autocast-bf16' if a.bf16 else 'fp32'}
    if a.serve:
        serve(model, a.classes, a.batch, a.height, a.width, a.warmup, a.bf16, lambda: info)
        return
    step_ms, fwd_ms = time_step_and_forward(model, a.classes, a.batch, a.height, a.width, a.steps, a.warmup, a.bf16)
    print(json.dumps({**info, 'step_ms': round(step_ms, 1), 'forward_ms': round(fwd_ms, 1), 'peak_rss_mb': peak_rss_mb()}))

if __name__ == '__main__':
    main()
