"""Encrypted inference of the hybrid model through ``henn``, client and server as in deployment.

Everything between the two roles crosses as bytes: the plan, the evaluation keys, the encrypted
slices and the encrypted outputs. Outputs are released by the client with noise flooding and
rounding to the plan's precision.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

import henn

log = logging.getLogger("edss.encrypted")


@dataclass
class EncryptedRun:
    outputs: np.ndarray  # (slices, outputs) decrypted model outputs
    plain_outputs: np.ndarray  # (slices, outputs) the same model in plaintext
    layers: list[dict]
    timings: dict
    bytes_moved: dict


def compile_model(model, images: torch.Tensor, clinical: torch.Tensor, **options):
    """Compile the trained model, calibrating ranges on the given (training) slices."""
    start = time.perf_counter()
    example = (images[:2], clinical[:2])
    compiled = henn.compile(model, example, calibration=(images, clinical), **options)
    log.info("compiled in %.1f s: %s", time.perf_counter() - start, compiled.summary())
    return compiled


def run_encrypted(compiled, model, images, clinical, progress: bool = False) -> EncryptedRun:
    """Encrypt every slice on the client, evaluate on the server, decrypt on the client."""
    timings = {}
    start = time.perf_counter()
    client = henn.Client(compiled, progress=progress)
    keys = client.evaluation_keys().to_bytes()
    timings["keygen_seconds"] = time.perf_counter() - start
    plan_bytes = compiled.plan.to_bytes()
    server = henn.Server(plan_bytes, keys)
    layer_totals: dict[str, dict] = {}
    moved = {"plan": len(plan_bytes), "evaluation_keys": len(keys), "inputs": 0, "outputs": 0}
    group = compiled.plan.batch_size
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(images), desc="encrypted inference", unit="slice", leave=False)
    start = time.perf_counter()
    server_seconds = 0.0
    outputs = []
    # One request per ciphertext group: the plan packs `group` slices side by side.
    for first in range(0, len(images), group):
        chosen = slice(first, first + group)
        request = client.encrypt(images[chosen], clinical[chosen]).to_bytes()
        tick = time.perf_counter()
        response = server.run(request)
        server_seconds += time.perf_counter() - tick
        outputs.extend(client.decrypt(response).numpy())
        moved["inputs"] += len(request)
        moved["outputs"] += len(response)
        for name, kind, level, seconds in server.last_timings:
            entry = layer_totals.setdefault(
                name, {"name": name, "kind": kind, "level": level, "seconds": 0.0}
            )
            entry["seconds"] += seconds
        if bar is not None:
            bar.update(len(images[chosen]))
    if bar is not None:
        bar.close()
    count = max(1, len(images))
    timings["encrypted_seconds_total"] = time.perf_counter() - start
    timings["server_seconds_per_slice"] = server_seconds / count
    timings["encrypted_seconds_per_slice"] = timings["encrypted_seconds_total"] / count
    timings["slices_per_ciphertext"] = group
    for entry in layer_totals.values():
        entry["seconds"] /= count  # per slice
    with torch.no_grad():
        plain = model(images, clinical).numpy()
    return EncryptedRun(np.array(outputs), plain, list(layer_totals.values()), timings, moved)
