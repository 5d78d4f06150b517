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
    outputs = []
    layer_totals: dict[str, dict] = {}
    moved = {"plan": len(plan_bytes), "evaluation_keys": len(keys), "inputs": 0, "outputs": 0}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(images), desc="encrypted inference", unit="slice", leave=False)
    start = time.perf_counter()
    server_seconds = 0.0
    for index in range(len(images)):
        request = client.encrypt(images[index : index + 1], clinical[index : index + 1]).to_bytes()
        tick = time.perf_counter()
        response = server.run(request)
        server_seconds += time.perf_counter() - tick
        outputs.append(client.decrypt(response).numpy()[0])
        moved["inputs"] += len(request)
        moved["outputs"] += len(response)
        for name, kind, level, seconds in server.last_timings:
            entry = layer_totals.setdefault(
                name, {"name": name, "kind": kind, "level": level, "seconds": 0.0}
            )
            entry["seconds"] += seconds / len(images)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    timings["encrypted_seconds_total"] = time.perf_counter() - start
    timings["server_seconds_per_slice"] = server_seconds / max(1, len(images))
    timings["encrypted_seconds_per_slice"] = timings["encrypted_seconds_total"] / max(
        1, len(images)
    )
    with torch.no_grad():
        plain = model(images, clinical).numpy()
    return EncryptedRun(np.array(outputs), plain, list(layer_totals.values()), timings, moved)
