"""Plate detector: one small fully convolutional network giving, per object, a centre score and 4 corners.

CenterNet-style: a heat map at 1/4 of the input resolution peaks at object centres (one channel per
class); at every cell a regression head predicts the offsets of the 4 corners (clockwise from the
top-left) from that cell's centre. The box is the bounding box of the corners, so box and corners can
never disagree. Decoding (peaks, thresholds, NMS) lives in ``numberplate/stages/detect.py`` and needs
no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from numberplate.models.blocks import ConvBNAct

#: Output stride of the heat map and corner maps.
STRIDE = 4
#: Corner offsets are predicted in units of ``STRIDE * CORNER_SCALE`` pixels (keeps targets near +-10).
CORNER_SCALE = 8.0


@dataclass
class DetectorConfig:
    """Shape of the detector.

    Attributes:
        num_classes: object classes (heat-map channels); the class names come from the data.
        widths: channels of the five backbone stages at strides 2, 4, 8, 16, 32.
        neck_width: channels of the feature pyramid merged down to stride 4.
    """

    num_classes: int = 1
    widths: tuple[int, int, int, int, int] = (16, 24, 40, 64, 96)
    neck_width: int = 32


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvBNAct(channels, channels, 3)
        self.conv2 = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(self.conv1(x)))


class PlateDetector(nn.Module):
    """Input ``B x 3 x H x W`` RGB in 0..1 (H, W multiples of 32) -> heat map and corner offsets.

    Outputs:
        heat: ``B x C x H/4 x W/4`` centre probabilities (sigmoid applied in ``forward``).
        corners: ``B x 8 x H/4 x W/4``; (dx1, dy1, ..., dx4, dy4) from the cell centre, in units of
            ``STRIDE * CORNER_SCALE`` pixels.
    """

    def __init__(self, config: DetectorConfig | None = None):
        super().__init__()
        self.config = config = config or DetectorConfig()
        w = config.widths
        self.stem = ConvBNAct(3, w[0], 3, stride=2)  # /2
        self.stage4 = nn.Sequential(ConvBNAct(w[0], w[1], 3, stride=2), ResidualBlock(w[1]))  # /4
        self.stage8 = nn.Sequential(ConvBNAct(w[1], w[2], 3, stride=2), ResidualBlock(w[2]))  # /8
        self.stage16 = nn.Sequential(ConvBNAct(w[2], w[3], 3, stride=2), ResidualBlock(w[3]))  # /16
        self.stage32 = nn.Sequential(ConvBNAct(w[3], w[4], 3, stride=2), ResidualBlock(w[4]),
                                     ResidualBlock(w[4]))  # /32: context for large plates
        n = config.neck_width
        self.lateral = nn.ModuleList([nn.Conv2d(c, n, 1) for c in (w[1], w[2], w[3], w[4])])
        self.smooth = ConvBNAct(n, n, 3)
        self.head = ConvBNAct(n, n, 3)
        self.heat = nn.Conv2d(n, config.num_classes, 1)
        self.corners = nn.Conv2d(n, 8, 1)
        # Start with a low centre prior so the focal loss does not begin with a flood of false peaks.
        nn.init.constant_(self.heat.bias, -4.6)
        # Corners start as a typical plate around the cell (~64 x 14 px), never as a collapsed point.
        nn.init.zeros_(self.corners.weight)
        with torch.no_grad():
            self.corners.bias.copy_(torch.tensor([-1.0, -0.22, 1.0, -0.22, 1.0, 0.22, -1.0, 0.22]))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c4 = self.stage4(self.stem(x))  # B x w1 x H/4 x W/4
        c8 = self.stage8(c4)  # B x w2 x H/8
        c16 = self.stage16(c8)  # B x w3 x H/16
        c32 = self.stage32(c16)  # B x w4 x H/32
        p = self.lateral[3](c32)
        for level, feature in ((2, c16), (1, c8), (0, c4)):
            p = F.interpolate(p, size=feature.shape[-2:], mode="nearest") + self.lateral[level](feature)
        features = self.head(self.smooth(p))  # B x n x H/4 x W/4
        return torch.sigmoid(self.heat(features)), self.corners(features)
