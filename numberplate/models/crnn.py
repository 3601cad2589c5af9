"""CRNN text recognizer: a small CNN reads columns, a bidirectional GRU reads the sequence, CTC decodes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from numberplate.models.blocks import ConvBNAct


@dataclass
class CRNNConfig:
    """Shape of the recognizer.

    Attributes:
        input_height: crop height in pixels after resizing: a multiple of 16 (32, 48, 64); taller inputs keep
            the small strokes apart (O/Q/D, the tail of a Q) at 1.5-2x the cost.
        input_width: crop width in pixels; the output has input_width / 4 time steps.
        in_channels: 1 for grey-scale input, 3 for RGB.
        widths: channels of the four convolution stages.
        rnn_hidden: hidden size per direction of the bidirectional GRU.
        num_classes: alphabet size + 1 (index 0 is the CTC blank).
        dropout: dropout before the classifier.
        min_contrast: crops whose grey levels span fewer levels are stretched to this span before the
            network, in training and inference alike (``stages.recognize.stretch_contrast``); 0 = never.
    """

    input_height: int = 32
    input_width: int = 128
    in_channels: int = 1
    widths: tuple[int, int, int, int] = (16, 32, 64, 96)
    rnn_hidden: int = 64
    num_classes: int = 37
    dropout: float = 0.15
    min_contrast: int = 0


class CRNN(nn.Module):
    """Convolutions + BiGRU + linear; returns per-time-step class logits."""

    def __init__(self, config: CRNNConfig):
        super().__init__()
        if config.input_height < 32 or config.input_height % 16:
            raise ValueError(f"CRNN input_height must be a multiple of 16 and at least 32, not {config.input_height} "
                             "(four poolings leave H/16 rows, which the last convolution collapses to 1)")
        w1, w2, w3, w4 = config.widths
        rows = config.input_height // 16  # rows left after the four height poolings
        self.config = config
        self.features = nn.Sequential(
            ConvBNAct(config.in_channels, w1),  # B, w1, H, W
            nn.MaxPool2d(2, 2),  # B, w1, H/2, W/2
            ConvBNAct(w1, w2),
            nn.MaxPool2d(2, 2),  # B, w2, H/4, W/4
            ConvBNAct(w2, w3),
            ConvBNAct(w3, w3),
            nn.MaxPool2d((2, 1), (2, 1)),  # B, w3, H/8, W/4
            ConvBNAct(w3, w4),
            nn.MaxPool2d((2, 1), (2, 1)),  # B, w4, H/16, W/4
            ConvBNAct(w4, w4, kernel=(rows, 3), padding=(0, 1)),  # B, w4, 1, W/4
        )
        self.rnn = nn.GRU(w4, config.rnn_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.rnn_hidden, config.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images: B x C x H x W float in [0, 1] -> logits B x T x num_classes (T = W / 4)."""
        features = self.features(images)  # B, w4, 1, T
        sequence = features.squeeze(2).permute(0, 2, 1)  # B, T, w4
        sequence, _ = self.rnn(sequence)  # B, T, 2 * hidden
        return self.classifier(self.dropout(sequence))  # B, T, classes
