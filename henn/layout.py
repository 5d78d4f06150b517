"""Pass 4 (pack): where every element of every tensor lives — which ciphertext, which slot.

A layout maps the flattened per-sample tensor (torch order) to (ciphertext, slot) pairs. Image
tensors keep a *grid*: channel c starts at ``bases[c]`` in ciphertext ``cts[c]`` and element
(c, y, x) sits at base + y·pitch_y + x·pitch_x. A strided convolution or a pooling writes its
output on the input's grid with larger pitches (gaps), so the next layer's diagonals stay few
and no data has to move. Flat tensors (after flatten or linear layers) use slot f·spacing, with
the spacing chosen by the planner to keep the number of distinct diagonals small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from henn.errors import CompileError


@dataclass
class Grid:
    channels: int
    height: int
    width: int
    pitch_y: int
    pitch_x: int
    block: int  # slots between consecutive channel bases


@dataclass
class Layout:
    """Element → (ciphertext, slot). ``grid`` is set for image-shaped tensors."""

    shape: tuple[int, ...]
    ciphertext: np.ndarray  # (elements,) int64
    slot: np.ndarray  # (elements,) int64
    ciphertexts: int
    grid: Grid | None = None

    def to_meta(self) -> dict:
        meta = {"shape": list(self.shape), "ciphertexts": self.ciphertexts, "grid": None}
        if self.grid is not None:
            meta["grid"] = self.grid.__dict__.copy()
        return meta

    @classmethod
    def from_meta(cls, meta: dict, ciphertext: np.ndarray, slot: np.ndarray) -> Layout:
        grid = Grid(**meta["grid"]) if meta.get("grid") else None
        return cls(tuple(meta["shape"]), ciphertext, slot, int(meta["ciphertexts"]), grid)


def _grid_layout(shape, pitch_y, pitch_x, block, slot_count, cell_offsets=None) -> Layout:
    """Channel c at block c (spilling into further ciphertexts), or, with ``cell_offsets``,
    every channel inside block 0 at its own offset within the gaps a stride left."""
    channels, height, width = shape
    per_ciphertext = slot_count // block
    if per_ciphertext < 1:
        raise CompileError(f"a channel block of {block} slots exceeds the {slot_count} slots")
    c, y, x = np.meshgrid(np.arange(channels), np.arange(height), np.arange(width), indexing="ij")
    c, y, x = c.reshape(-1), y.reshape(-1), x.reshape(-1)
    if cell_offsets is not None:
        slot = np.asarray(cell_offsets)[c] + y * pitch_y + x * pitch_x
        ciphertext = np.zeros_like(c)
        grid = Grid(channels, height, width, pitch_y, pitch_x, block)
        return Layout(tuple(shape), ciphertext, slot, 1, grid)
    slot = (c % per_ciphertext) * block + y * pitch_y + x * pitch_x
    ciphertext = c // per_ciphertext
    grid = Grid(channels, height, width, pitch_y, pitch_x, block)
    return Layout(tuple(shape), ciphertext, slot, int(ciphertext.max()) + 1, grid)


def flat_layout(shape, slot_count: int, spacing: int = 1) -> Layout:
    """Element f at slot (f·spacing) mod the slots, spilling into further ciphertexts."""
    count = math.prod(shape)
    per_ciphertext = max(1, slot_count // spacing)
    index = np.arange(count)
    return Layout(
        tuple(shape),
        index // per_ciphertext,
        (index % per_ciphertext) * spacing,
        int((count - 1) // per_ciphertext) + 1,
    )


def input_layout(shape, slot_count: int) -> Layout:
    """Compact layout of a model input: channel blocks of H·W slots, or flat."""
    if len(shape) == 3 and shape[1] * shape[2] <= slot_count:
        _channels, height, width = shape
        return _grid_layout(shape, width, 1, height * width, slot_count)
    return flat_layout(shape, slot_count)


def grid_output_layout(source: Layout, shape, slot_count: int) -> Layout | None:
    """Output of a convolution-like map written on the input's grid (with gaps); None if not."""
    if source.grid is None or len(shape) != 3:
        return None
    grid = source.grid
    _channels, height, width = shape
    if height > grid.height or width > grid.width:
        return None
    stride_y = max(1, grid.height // height)
    stride_x = max(1, grid.width // width)
    pitch_y, pitch_x = grid.pitch_y * stride_y, grid.pitch_x * stride_x
    if (height - 1) * pitch_y + (width - 1) * pitch_x >= grid.block:
        return None
    channels = shape[0]
    if 1 < channels <= stride_y * stride_x and source.ciphertexts == 1:
        # Channels side by side in the gaps of the stride: the tensor keeps the input's
        # footprint, so more samples fit in one ciphertext.
        cells = [
            a * grid.pitch_y + b * grid.pitch_x for a in range(stride_y) for b in range(stride_x)
        ]
        extent = (height - 1) * pitch_y + (width - 1) * pitch_x + max(cells[:channels])
        if extent < grid.block:
            return _grid_layout(shape, pitch_y, pitch_x, grid.block, slot_count, cells[:channels])
    return _grid_layout(shape, pitch_y, pitch_x, grid.block, slot_count)


def sample_stride(layouts) -> int | None:
    """Slots one sample spans across every layout; None if a tensor needs several ciphertexts."""
    if any(layout.ciphertexts != 1 for layout in layouts):
        return None
    return max(int(layout.slot.max()) + 1 for layout in layouts if len(layout.slot))


def layout_arrays(layout: Layout) -> dict[str, np.ndarray]:
    return {"ciphertext": layout.ciphertext, "slot": layout.slot}
