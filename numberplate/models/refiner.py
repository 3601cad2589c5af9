"""Corner refiner: a small CNN that re-locates the 4 corners of one plate inside a window around its box.

The detector finds plates in the whole photo at 1/4 resolution and its corners are off by ~10% of the
plate width; the refiner sees only the plate and its surroundings, stretched to a fixed size, and
regresses the corners in window units (0..1), which makes its error independent of the plate's size.
(Nomeroff Net's old pipeline had the same split: a detector, then a "RectDetector" for the corners.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from numberplate.models.blocks import ConvBNAct


@dataclass
class RefinerConfig:
    """Shape of the refiner.

    Attributes:
        input_height: window height in pixels (a multiple of 16).
        input_width: window width in pixels (a multiple of 16).
        widths: channels of the four stride-2 stages.
        hidden: width of the fully connected layer (it keeps where things are, unlike global pooling).
    """

    input_height: int = 64
    input_width: int = 128
    widths: tuple[int, int, int, int] = (16, 32, 64, 96)
    hidden: int = 128


class CornerRefiner(nn.Module):
    """Window crop -> the 4 corners (x, y) clockwise from the top-left, in window units."""

    def __init__(self, config: RefinerConfig):
        super().__init__()
        if config.input_height % 16 or config.input_width % 16:
            raise ValueError("refiner input height and width must be multiples of 16")
        w1, w2, w3, w4 = config.widths
        self.config = config
        self.features = nn.Sequential(
            ConvBNAct(3, w1, stride=2),  # B, w1, H/2, W/2
            ConvBNAct(w1, w2, stride=2),  # B, w2, H/4, W/4
            ConvBNAct(w2, w2),
            ConvBNAct(w2, w3, stride=2),  # B, w3, H/8, W/8
            ConvBNAct(w3, w3),
            ConvBNAct(w3, w4, stride=2),  # B, w4, H/16, W/16
        )
        cells = (config.input_height // 16) * (config.input_width // 16)
        self.head = nn.Sequential(
            nn.Flatten(),  # B, w4 * cells
            nn.Linear(w4 * cells, config.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(config.hidden, 8),  # B, 8
        )
        # Start from "the plate fills the middle of the window" (where the padded box puts it): the
        # first steps then learn corrections instead of the window geometry.
        last = self.head[-1]
        nn.init.normal_(last.weight, std=1e-3)
        with torch.no_grad():
            last.bias.copy_(torch.tensor([0.1, 0.3, 0.9, 0.3, 0.9, 0.7, 0.1, 0.7]))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images: B x 3 x H x W float in [0, 1] -> B x 8 corner coordinates (x0, y0, ..., x3, y3) in 0..1."""
        return self.head(self.features(images))
