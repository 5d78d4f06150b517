"""C23: diagonal indices and rotation keys are normalized the same way (modulo N/2 slots).

Lattigo reduced linear-transform diagonals modulo the used (sparse) slot count while its keys
were made modulo N/2, so key look-ups missed. Here every step, in the plan, the key set and the
evaluator, is taken modulo N/2: a −1 diagonal needs the key for step N/2 − 1, and finds it.
"""

from __future__ import annotations

import torch
from torch import nn

import henn


def test_c23_sparse_tridiagonal_transform_finds_its_keys():
    size = 1024  # of 4096 slots at N = 8192
    layer = nn.Linear(size, size, bias=False)
    with torch.no_grad():
        weight = torch.zeros(size, size)
        index = torch.arange(size)
        weight[index, index] = 2.0
        weight[index[1:], index[:-1]] = -1.0  # diagonal −1
        weight[index[:-1], index[1:]] = 0.5  # diagonal +1
        layer.weight.copy_(weight)
    model = nn.Sequential(layer).eval()
    x = torch.randn(3, size, generator=torch.Generator().manual_seed(23))

    compiled = henn.compile(model, x, ring_degree=8192, batch_size=1, scale_bits=36)
    slots = compiled.params.slot_count
    assert slots == 4096
    assert all(0 < step < slots for step in compiled.plan.rotation_steps)

    client = henn.Client(compiled)
    server = henn.Server(compiled.plan.to_bytes(), client.evaluation_keys().to_bytes())
    output = client.decrypt(server.run(client.encrypt(x).to_bytes()))

    expected = model(x).detach()
    assert output.shape == expected.shape
    assert float((output - expected).abs().max()) <= compiled.tolerance
