"""Small building blocks shared by the models."""

from __future__ import annotations

from torch import nn


class ConvBNAct(nn.Sequential):
    """Conv2d -> BatchNorm2d -> ReLU; padding keeps the spatial size for odd kernels."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int | tuple[int, int] = 3,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | None = None):
        if padding is None:
            padding = kernel // 2 if isinstance(kernel, int) else (kernel[0] // 2, kernel[1] // 2)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )
