"""The U-Net of milesial/Pytorch-UNet (unet/unet_parts.py, unet/unet_model.py), rebuilt here so that the
comparison does not need that repository. Depth is fixed at 4 there; `filters` replaces its 64."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False, filters=64):
        super().__init__()
        f = filters
        self.inc = DoubleConv(n_channels, f)
        self.down1 = Down(f, 2 * f)
        self.down2 = Down(2 * f, 4 * f)
        self.down3 = Down(4 * f, 8 * f)
        factor = 2 if bilinear else 1
        self.down4 = Down(8 * f, 16 * f // factor)
        self.up1 = Up(16 * f, 8 * f // factor, bilinear)
        self.up2 = Up(8 * f, 4 * f // factor, bilinear)
        self.up3 = Up(4 * f, 2 * f // factor, bilinear)
        self.up4 = Up(2 * f, f, bilinear)
        self.outc = OutConv(f, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


if __name__ == '__main__':
    # Parameter counts (trainable: BatchNorm running statistics excluded), for the tests in test/model/.
    #   /usr/bin/python3 bench/torch_import/milesial_unet.py [filters ...]
    import sys
    for f in [int(v) for v in sys.argv[1:]] or [64, 8]:
        for bilinear in (False, True):
            for n_channels, n_classes in ((3, 2), (1, 3)):
                m = UNet(n_channels, n_classes, bilinear=bilinear, filters=f)
                n = sum(p.numel() for p in m.parameters())
                print(f'filters {f}, {"bilinear" if bilinear else "transpose"}, {n_channels} channels, {n_classes} classes: {n} parameters')
