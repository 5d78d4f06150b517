"""Pass 5 (lower): affine maps → diagonals of slot matrices, with baby-step giant-step.

An affine map between two layouts is, per pair (output ciphertext, input ciphertext), an n×n
matrix M on the slots (n = N/2). Its diagonal d holds M[k, k + d]; then
M·x = Σ_d diag_d ⊙ rot(x, d) (Halevi–Shoup), one rotation per non-zero diagonal. Writing each
signed offset as d = g·i + j (giant step g) gives
    M·x = Σ_i rot( Σ_j rot(diag_(gi+j), −gi) ⊙ rot(x, j), g·i ),
which needs one rotation per distinct baby step j (all hoisted: one decomposition) and one per
distinct giant step i. The giant step g is chosen per block to minimise that count. Weights that
are exactly zero never produce a diagonal, so they cost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from henn.layout import Layout, flat_layout, grid_output_layout, input_layout, sample_stride
from henn.trace import LinearStep, PolyStep, Program


@dataclass
class DiagonalBlock:
    """The part of an affine map from one input ciphertext to one output ciphertext."""

    input_position: int  # which input of the step
    input_ciphertext: int
    output_ciphertext: int
    giant_step: int
    baby_steps: list[int]
    giants: list[int]
    weights: dict[tuple[int, int], np.ndarray] = field(repr=False)  # (i, j) → pre-rotated diag

    @property
    def rotations(self) -> int:
        return sum(1 for j in self.baby_steps if j) + sum(1 for i in self.giants if i)


@dataclass
class LoweredLinear:
    step: LinearStep
    output_layout: Layout
    blocks: list[DiagonalBlock]
    bias: list[np.ndarray | None]  # per output ciphertext, in slots
    # Per input: rotate-and-add steps applied first (window sums of a pooling), or [].
    presum: list[list[int]] = field(default_factory=list)

    @property
    def rotations(self) -> int:
        return sum(block.rotations for block in self.blocks) + sum(map(len, self.presum))


@dataclass
class LoweredPoly:
    step: PolyStep
    layout: Layout


def signed(offsets: np.ndarray, slot_count: int) -> np.ndarray:
    return np.where(offsets > slot_count // 2, offsets - slot_count, offsets)


def choose_giant_step(offsets: np.ndarray, slot_count: int, hints=()) -> tuple[int, int]:
    """(g, rotations) minimising distinct non-zero baby plus giant steps for signed offsets."""
    offsets = np.unique(offsets)
    candidates = {1 << k for k in range(int(math.log2(slot_count)) + 1)} | {
        int(h) for h in hints if h > 0
    }
    best = (1, 1 << 62)
    for g in sorted(candidates):
        giants = np.round(offsets / g).astype(np.int64)
        babies = offsets - giants * g
        cost = np.count_nonzero(np.unique(babies)) + np.count_nonzero(np.unique(giants))
        if cost < best[1]:
            best = (g, int(cost))
    return best


def tile_samples(vector: np.ndarray, batch: tuple[int, int]) -> np.ndarray:
    """Repeat one sample's slots (the first ``stride``) for ``count`` samples side by side."""
    count, stride = batch
    if count <= 1:
        return vector
    tiled = np.zeros_like(vector)
    tiled[: count * stride] = np.tile(vector[:stride], count)
    return tiled


def _block_diagonals(out_slot, in_slot, values, slot_count, hints, batch=(1, 0)) -> tuple:
    offsets = signed((in_slot - out_slot) % slot_count, slot_count)
    g, _ = choose_giant_step(offsets, slot_count, hints)
    giants_of = np.round(offsets / g).astype(np.int64)
    babies_of = offsets - giants_of * g
    weights: dict[tuple[int, int], np.ndarray] = {}
    for i, j in set(zip(giants_of.tolist(), babies_of.tolist(), strict=True)):
        chosen = (giants_of == i) & (babies_of == j)
        diagonal = np.zeros(slot_count)
        np.add.at(diagonal, out_slot[chosen], values[chosen])
        # Samples packed side by side share the diagonals (the matrix is block-diagonal).
        diagonal = tile_samples(diagonal, batch)
        # Pre-rotate by −g·i: rot(w, g·i) must equal the diagonal.
        weights[(i, j)] = np.roll(diagonal, g * i)
    babies = sorted({j for _, j in weights})
    giants = sorted({i for i, _ in weights})
    return g, babies, giants, weights


def window_sum_factor(matrix, layout: Layout, outputs: int, limit: int = 1 << 24):
    """Factor W = W'·S when W is constant over ky×kx windows of an image input (pooling).

    Then S (window sums) costs log2(ky) + log2(kx) rotate-and-adds, and W' reads only one
    anchor per window: far fewer diagonals than W. Returns (steps, anchor layout, reduced COO)
    or None.
    """
    grid = layout.grid
    if grid is None or outputs * len(layout.slot) > limit:
        return None
    rows, cols, vals = matrix
    dense = np.zeros((outputs, len(layout.slot)))
    dense[rows, cols] = vals
    dense = dense.reshape(outputs, grid.channels, grid.height, grid.width)
    for ky, kx in ((8, 8), (4, 4), (4, 2), (2, 4), (2, 2), (2, 1), (1, 2)):
        if grid.height % ky or grid.width % kx:
            continue
        blocks = dense.reshape(outputs, grid.channels, grid.height // ky, ky, grid.width // kx, kx)
        anchors = blocks[:, :, :, :1, :, :1]
        if not np.array_equal(blocks, np.broadcast_to(anchors, blocks.shape)):
            continue
        steps = [grid.pitch_y << k for k in range(ky.bit_length() - 1)]
        steps += [grid.pitch_x << k for k in range(kx.bit_length() - 1)]
        c, y, x = np.meshgrid(
            np.arange(grid.channels),
            np.arange(0, grid.height, ky),
            np.arange(0, grid.width, kx),
            indexing="ij",
        )
        original = (c * grid.height + y) * grid.width + x
        anchor_layout = Layout(
            (grid.channels, grid.height // ky, grid.width // kx),
            layout.ciphertext[original.reshape(-1)],
            layout.slot[original.reshape(-1)],
            layout.ciphertexts,
        )
        reduced = anchors.reshape(outputs, -1)
        new_rows, new_cols = np.nonzero(reduced)
        return steps, anchor_layout, (new_rows, new_cols, reduced[new_rows, new_cols])
    return None


def effective_inputs(step, input_layouts):
    """Per input: window-sum steps, the layout read and the matrix applied after them."""
    presum, layouts, matrices = [], [], []
    for layout, matrix in zip(input_layouts, step.matrices, strict=True):
        factor = window_sum_factor(matrix, layout, len(step.bias))
        if factor is None:
            factor = ([], layout, matrix)
        presum.append(factor[0])
        layouts.append(factor[1])
        matrices.append(factor[2])
    return presum, layouts, matrices


def lower_linear(step, input_layouts, output_layout, slot_count, batch=(1, 0)) -> LoweredLinear:
    blocks = []
    presum, layouts, matrices = effective_inputs(step, input_layouts)
    for position, (layout, (rows, cols, vals)) in enumerate(zip(layouts, matrices, strict=True)):
        hints = _pitches(layout)
        out_ct, out_slot = output_layout.ciphertext[rows], output_layout.slot[rows]
        in_ct, in_slot = layout.ciphertext[cols], layout.slot[cols]
        for pair in sorted(set(zip(out_ct.tolist(), in_ct.tolist(), strict=True))):
            chosen = (out_ct == pair[0]) & (in_ct == pair[1])
            g, babies, giants, weights = _block_diagonals(
                out_slot[chosen], in_slot[chosen], vals[chosen], slot_count, hints, batch
            )
            blocks.append(DiagonalBlock(position, pair[1], pair[0], g, babies, giants, weights))
    bias = [None] * output_layout.ciphertexts
    for ct in range(output_layout.ciphertexts):
        chosen = (output_layout.ciphertext == ct) & (step.bias != 0)
        if chosen.any():
            vector = np.zeros(slot_count)
            vector[output_layout.slot[chosen]] = step.bias[chosen]
            bias[ct] = tile_samples(vector, batch)
    return LoweredLinear(step, output_layout, blocks, bias, presum)


def _pitches(layout: Layout) -> tuple[int, ...]:
    if layout.grid is None:
        return ()
    return (layout.grid.pitch_y, layout.grid.pitch_x, layout.grid.block)


def _rotation_cost(layouts, matrices, candidate: Layout, slot_count: int) -> int:
    cost = 0
    for layout, (rows, cols, _) in zip(layouts, matrices, strict=True):
        out_ct, out_slot = candidate.ciphertext[rows], candidate.slot[rows]
        in_ct, in_slot = layout.ciphertext[cols], layout.slot[cols]
        keys = (out_ct * (1 << 20) + in_ct) * (2 * slot_count) + (in_slot - out_slot) % slot_count
        unique = np.unique(keys)
        pairs = unique // (2 * slot_count)
        for pair in np.unique(pairs):
            offsets = signed(unique[pairs == pair] % (2 * slot_count), slot_count)
            cost += choose_giant_step(offsets, slot_count, _pitches(layout))[1]
    return cost


def choose_output_layout(step, input_layouts, shape, slot_count, span: int = 1) -> Layout:
    """The output layout with the least work per sample among grid and spaced flat candidates.

    Work per sample = rotations / samples per ciphertext, where the samples that fit depend on
    the widest layout so far (``span`` slots) and the candidate's own extent.
    """
    primary = max(input_layouts, key=lambda layout: len(layout.slot))
    grid = grid_output_layout(primary, shape, slot_count)
    if grid is not None:
        return grid
    _, layouts, matrices = effective_inputs(step, input_layouts)
    spacings = {1}
    for pitch in _pitches(primary):
        spacings |= {pitch << k for k in range(4)}
    candidates = [flat_layout(shape, slot_count, s) for s in sorted(spacings) if s < slot_count]

    def work(candidate: Layout):
        rotations = _rotation_cost(layouts, matrices, candidate, slot_count)
        extent = max(span, int(candidate.slot.max()) + 1)
        samples = max(1, slot_count // extent) if candidate.ciphertexts == 1 else 1
        return (max(rotations, 1) / samples, candidate.ciphertexts)

    return min(candidates, key=work)


def lower_program(program: Program, slot_count: int, batch_size: int | None = None):
    """Layouts of every value and the lowered steps, for ``slot_count`` slots per ciphertext.

    ``batch_size``: samples per ciphertext (None: as many as fit). Returns (layouts, lowered,
    (batch size, sample stride)).
    """
    layouts, lowered = _lower_single(program, slot_count)
    stride = sample_stride(layouts.values())
    most = 1 if stride is None else max(1, slot_count // stride)
    count = most if batch_size is None else max(1, min(int(batch_size), most))
    if count == 1:
        return layouts, lowered, (1, slot_count if stride is None else stride)
    batch = (count, stride)
    lowered = [
        lower_linear(
            op.step, [layouts[v] for v in op.step.inputs], op.output_layout, slot_count, batch
        )
        if isinstance(op, LoweredLinear)
        else op
        for op in lowered
    ]
    return layouts, lowered, batch


def _lower_single(program: Program, slot_count: int):
    layouts: dict[int, Layout] = {
        value: input_layout(program.shapes[value], slot_count) for value in program.input_ids
    }
    lowered = []
    for step in program.steps:
        if isinstance(step, LinearStep):
            inputs = [layouts[v] for v in step.inputs]
            span = max(int(lay.slot.max()) + 1 for lay in layouts.values() if len(lay.slot))
            layout = choose_output_layout(
                step, inputs, program.shapes[step.output], slot_count, span
            )
            layouts[step.output] = layout
            lowered.append(lower_linear(step, inputs, layout, slot_count))
        else:
            layouts[step.output] = layouts[step.input]
            lowered.append(LoweredPoly(step, layouts[step.input]))
    return layouts, lowered
