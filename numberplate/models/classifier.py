"""Plate classifier: one small CNN trunk, global pooling, three heads (plate type, text lines, state)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from numberplate.models.blocks import ConvBNAct

#: Text lines the lines head tells apart, in output order.
LINE_CLASSES = (1, 2, 3)


@dataclass
class ClassifierConfig:
    """Shape of the classifier.

    Attributes:
        input_height: crop height after resizing (a multiple of 16).
        input_width: crop width after resizing (a multiple of 16).
        in_channels: 3 (RGB): colour tells plate types apart (UA 2004 flag band vs 2015, yellow taxis...).
        widths: channels of the four stride-2 stages.
        num_regions: plate types (+ "unknown"); set from the data by the training task.
        num_lines: text-line classes (1, 2, 3).
        num_states: plate states (readable, filled, empty, garbage).
        dropout: dropout before the heads.
        pool_cells: the final feature map is averaged over its height and over this many equal columns
            (1 = plain global pooling). Columns keep where a cue is: a blue band on the left (EU) or on
            both ends (FR, IT), a crest after the district. Must divide ``input_width / 16``.
    """

    input_height: int = 48
    input_width: int = 96
    in_channels: int = 3
    widths: tuple[int, int, int, int] = (16, 32, 64, 128)
    num_regions: int = 2
    num_lines: int = len(LINE_CLASSES)
    num_states: int = 4
    dropout: float = 0.2
    pool_cells: int = 1


class PlateClassifier(nn.Module):
    """Shared convolutions -> average + max pooling -> one linear head per question; returns logits."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        if config.input_height % 16 or config.input_width % 16:
            raise ValueError(f"input size {config.input_height}x{config.input_width} must be multiples of 16")
        if config.pool_cells < 1 or (config.input_width // 16) % config.pool_cells:
            raise ValueError(f"pool_cells {config.pool_cells} must divide the feature width {config.input_width // 16}")
        w1, w2, w3, w4 = config.widths
        self.config = config
        # No full-resolution convolution: the stem strides at once, which halves the cost of the network.
        self.features = nn.Sequential(
            ConvBNAct(config.in_channels, w1, stride=2),  # B, w1, H/2, W/2
            ConvBNAct(w1, w2, stride=2),  # B, w2, H/4, W/4
            ConvBNAct(w2, w2),
            ConvBNAct(w2, w3, stride=2),  # B, w3, H/8, W/8
            ConvBNAct(w3, w3),
            ConvBNAct(w3, w4, stride=2),  # B, w4, H/16, W/16
            ConvBNAct(w4, w4),
        )
        self.dropout = nn.Dropout(config.dropout)
        pooled = (config.pool_cells + 1) * w4
        self.region = nn.Linear(pooled, config.num_regions)
        self.lines = nn.Linear(pooled, config.num_lines)
        self.state = nn.Linear(pooled, config.num_states)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """images: B x 3 x H x W float in [0, 1] -> logits (B x regions, B x lines, B x states)."""
        features = self.features(images)  # B, w4, H/16, W/16
        # Average pooling sums up evidence (per column cell), max pooling keeps small cues (a band's letters).
        batch, channels, _, width = features.shape
        cells = self.config.pool_cells
        columns = features.mean(dim=2).reshape(batch, channels, cells, width // cells).mean(dim=3)  # B, w4, cells
        pooled = torch.cat([columns.flatten(1), features.amax(dim=(2, 3))], dim=1)  # B, (cells + 1) * w4
        pooled = self.dropout(pooled)
        return self.region(pooled), self.lines(pooled), self.state(pooled)
