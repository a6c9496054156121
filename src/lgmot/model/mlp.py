"""The MLP used everywhere in the MPN (A.6): Linear + ReLU per layer, no ReLU when out dim is 1."""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


class MLP(nn.Sequential):
    """``MLP([in, h1, ..., out])``. Every Linear is followed by a ReLU unless its output is 1-d.

    No dropout and no normalisation (the reference uses neither).
    """

    def __init__(self, dims: Sequence[int]):
        dims = [int(d) for d in dims]
        if len(dims) < 2 or any(d < 1 for d in dims):
            raise ValueError(f"MLP needs at least [in, out] positive dims, got {dims}")
        layers: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers.append(nn.Linear(d_in, d_out))
            if d_out != 1:
                layers.append(nn.ReLU())
        super().__init__(*layers)
        self.dims = tuple(dims)

    def forward(self, x: Tensor) -> Tensor:  # explicit for typing
        return super().forward(x)
