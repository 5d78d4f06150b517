"""Encrypted inference latency of henn against TenSEAL's encrypted-MNIST network, on one thread.

Prints one markdown table, the per-layer tables behind it, then the targets:

(a) TenSEAL's MNIST tutorial network (convolution 1 -> 4 channels, kernels 7x7, stride 3, on a
    28x28 image; square; linear 256 -> 64; square; linear 64 -> 10) with random weights, run
    by henn with one image per ciphertext group and by TenSEAL
    (``peers.tenseal_mnist_latency``). Both networks use the same draws from
    ``numpy.random.default_rng(0)`` in the same order, so they compute the same function.
(b) The same network in henn's batch mode: as many images per ciphertext group as the plan
    packs; time per image = end-to-end time of one full group / images per group.
(c) The two-branch EDSS model ``HybridEDSSNet(64, 24, "binary")`` (a 64x64 slice plus 24
    clinical features) and the demo's ``HybridEDSSNet(32, 6, "binary")``, with batch-norm
    statistics set by a few forward passes in train mode on random inputs and compiled with
    calibration on 40 random inputs: latency per patient (one slice, one sample per group) and
    time per slice in batch mode.

What henn's columns time, per run: encrypt = ``Client.encrypt`` and serialization to bytes;
server = ``Server.run`` on those bytes (deserialization, evaluation, serialization of the
result); decrypt = ``Client.decrypt`` of the result bytes (with release rounding);
end-to-end = their sum. Compilation and key generation are one-time costs, shown above each
per-layer table with the first (cold) run, which also encodes the plaintext weights that later
runs reuse. TenSEAL's end-to-end is im2col encoding, encryption, evaluation and decryption,
without serialization; its evaluation column times evaluation alone. Every time is the median
of ``--repeats`` runs after one warm-up run; henn's one-sample and batch plans of a model
run in alternation, round by round, so that a change of machine load lands on both. Max
|error| is against the torch model (against the same network in numpy for TenSEAL).

``OMP_NUM_THREADS=1`` is set before anything is imported; henn's Numba kernels and torch run
on one thread (``numba.set_num_threads(1)``, ``torch.set_num_threads(1)``), TenSEAL on one.

Usage: python benchmarks/bench_henn.py [--repeats 3] [--skip-tenseal]
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before NumPy, Numba, torch or TenSEAL loads OpenMP

import argparse
import importlib.util
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import henn  # noqa: E402
from benchmarks import peers  # noqa: E402
from edss.model import HybridEDSSNet  # noqa: E402
from henn.nn import Square  # noqa: E402

CALIBRATION_SAMPLES = 40
TRAIN_MODE_PASSES = 3
BATCH_GAIN_TARGET = 20.0
PATIENT_SECONDS_TARGET = 5.0
SLICE_SECONDS_TARGET = 0.1
TENSEAL_INSTALL_HINT = "pip install '.[bench]'"
LAYER_TABLES = (
    "mnist_single",
    "mnist_batch",
    "edss64_single",
    "edss64_batch",
    "edss32_single",
    "edss32_batch",
)


@dataclass
class LayerTime:
    """One lowered layer of a henn plan: what it is and its median time on the server."""

    name: str
    kind: str
    level: int
    seconds: float
    rotations: int


@dataclass
class Measurement:
    """Median timings of one configuration, in seconds per ciphertext group."""

    label: str
    samples_per_group: int
    encrypt: float | None
    server: float | None
    decrypt: float | None
    end_to_end: float
    max_error: float
    ring_degree: str
    depth: str
    moduli: str
    rotation_keys: str
    rotations: str
    layers: list[LayerTime] = field(default_factory=list)
    setup: str = ""

    @property
    def per_sample(self) -> float:
        return self.end_to_end / self.samples_per_group


def progress(message: str) -> None:
    """A progress line on stderr, so that stdout holds the tables only."""
    print(f"[bench_henn] {message}", file=sys.stderr, flush=True)


def mnist_network() -> nn.Sequential:
    """TenSEAL's tutorial network with the weights ``peers.tenseal_mnist_latency`` draws."""
    rng = np.random.default_rng(0)
    rng.uniform(0.0, 1.0, (28, 28))  # the peer's image comes first in its draws
    kernels = rng.normal(0.0, 0.1, (4, 7, 7))
    kernel_biases = rng.normal(0.0, 0.1, 4)
    hidden_weights = rng.normal(0.0, 0.1, (256, 64))
    hidden_biases = rng.normal(0.0, 0.1, 64)
    output_weights = rng.normal(0.0, 0.1, (64, 10))
    output_biases = rng.normal(0.0, 0.1, 10)

    model = nn.Sequential(
        nn.Conv2d(1, 4, 7, stride=3),
        Square(),
        nn.Flatten(),
        nn.Linear(256, 64),
        Square(),
        nn.Linear(64, 10),
    )
    parameters = [
        (model[0].weight, kernels[:, None]),
        (model[0].bias, kernel_biases),
        (model[3].weight, hidden_weights.T),
        (model[3].bias, hidden_biases),
        (model[5].weight, output_weights.T),
        (model[5].bias, output_biases),
    ]
    with torch.no_grad():
        for parameter, values in parameters:
            parameter.copy_(torch.as_tensor(np.ascontiguousarray(values)))
    return model.eval()


def mnist_images(count: int) -> torch.Tensor:
    """The peer's image first, then uniform random images in [0, 1)."""
    first = np.random.default_rng(0).uniform(0.0, 1.0, (1, 1, 28, 28))
    others = np.random.default_rng(1).uniform(0.0, 1.0, (count - 1, 1, 28, 28))
    return torch.as_tensor(np.concatenate([first, others]), dtype=torch.float32)


def edss_model(image_size: int, clinical_features: int) -> tuple[nn.Module, tuple]:
    """The EDSS model with batch-norm statistics from random inputs, and those inputs."""
    torch.manual_seed(image_size + clinical_features)
    model = HybridEDSSNet(image_size, clinical_features, "binary")
    images = torch.rand(CALIBRATION_SAMPLES, 1, image_size, image_size)
    clinical = torch.rand(CALIBRATION_SAMPLES, clinical_features)
    model.train()
    with torch.no_grad():
        for _ in range(TRAIN_MODE_PASSES):
            model(images, clinical)
    return model.eval(), (images, clinical)


def run_length(bits: list[int]) -> str:
    """Bit sizes written compactly: [44, 40, 40, 40] -> '44,40x3'."""
    parts = []
    for value in bits:
        if parts and parts[-1][0] == value:
            parts[-1][1] += 1
        else:
            parts.append([value, 1])
    return ",".join(f"{value}" if count == 1 else f"{value}x{count}" for value, count in parts)


class HennCase:
    """A compiled model with its client and server, ready to time one full ciphertext group.

    The plan, the evaluation keys and every ciphertext cross between client and server as
    bytes. Construction compiles, makes the keys and runs the group once (the cold run).
    """

    def __init__(self, label: str, model, calibration: tuple, **options):
        progress(f"{label}: compiling, making keys, cold run")
        start = time.perf_counter()
        examples = tuple(t[:2] for t in calibration)
        self.compiled = henn.compile(model, examples, calibration, **options)
        compile_seconds = time.perf_counter() - start

        self.client = henn.Client(self.compiled)
        start = time.perf_counter()
        keys = self.client.evaluation_keys()
        keygen_seconds = time.perf_counter() - start
        self.server = henn.Server(self.compiled.plan.to_bytes(), keys.to_bytes())

        self.label = label
        self.count = self.compiled.plan.batch_size
        copies = -(-self.count // calibration[0].shape[0])
        self.group = tuple(torch.cat([t] * copies)[: self.count] for t in calibration)
        with torch.no_grad():
            self.expected = model(*self.group).double()
        cold_stages, _, _ = self.run_once()
        self.setup = (
            f"compile {compile_seconds:.1f} s, key generation {keygen_seconds:.1f} s, first "
            f"(cold) run {sum(cold_stages):.2f} s, output tolerance {self.compiled.tolerance:.1e}"
        )
        self.runs: list = []

    def run_once(self) -> tuple[tuple[float, float, float], float, list]:
        """Encrypt, evaluate and decrypt the group: stage seconds, max error, layer timings."""
        first = time.perf_counter()
        data = self.client.encrypt(*self.group).to_bytes()
        second = time.perf_counter()
        result = self.server.run(data)
        third = time.perf_counter()
        output = self.client.decrypt(result)
        fourth = time.perf_counter()
        stages = (second - first, third - second, fourth - third)
        error = float((output.double() - self.expected).abs().max())
        return stages, error, list(self.server.last_timings)

    def measurement(self) -> Measurement:
        """Medians over the timed runs in ``self.runs``."""
        runs = self.runs
        layers = []
        for position, rotations in enumerate(self.compiled.layer_rotations):
            name, kind, level, _ = runs[-1][2][position]
            seconds = statistics.median(run[2][position][3] for run in runs)
            layers.append(LayerTime(name, kind, level, seconds, rotations))
        compiled, params = self.compiled, self.compiled.params
        return Measurement(
            label=self.label,
            samples_per_group=self.count,
            encrypt=statistics.median(run[0][0] for run in runs),
            server=statistics.median(run[0][1] for run in runs),
            decrypt=statistics.median(run[0][2] for run in runs),
            end_to_end=statistics.median(sum(run[0]) for run in runs),
            max_error=max(run[1] for run in runs),
            ring_degree=str(params.ring_degree),
            depth=str(compiled.depth),
            moduli=f"{run_length(params.moduli_bits)} + {run_length(params.special_moduli_bits)}",
            rotation_keys=f"{len(compiled.rotation_steps)} ({compiled.key_bytes / 2**20:.0f} MiB)",
            rotations=str(compiled.counts.get("rotations", 0)),
            layers=layers,
            setup=self.setup,
        )


def measure_pair(model, calibration: tuple, labels: tuple[str, str], repeats: int) -> list:
    """One sample per group and the default batch, timed in alternation so that a change of
    machine load lands on both; each is warmed up by its cold run first."""
    cases = [
        HennCase(labels[0], model, calibration, batch_size=1),
        HennCase(labels[1], model, calibration),
    ]
    for index in range(repeats):
        progress(f"{labels[0]} / batch: round {index + 1} of {repeats}")
        for case in cases:
            case.runs.append(case.run_once())
    return [case.measurement() for case in cases]


def measure_tenseal(repeats: int) -> Measurement:
    """TenSEAL's MNIST latency per image, from ``peers.tenseal_mnist_latency``."""
    progress("TenSEAL MNIST: timing (this peer takes several seconds per image)")
    result = peers.tenseal_mnist_latency(repeats)
    config = str(result["config"])
    ring_degree = re.search(r"N=(\d+)", config)
    return Measurement(
        label="(a) TenSEAL MNIST",
        samples_per_group=1,
        encrypt=None,
        server=float(result["evaluate"]),
        decrypt=None,
        end_to_end=float(result["encrypt_evaluate_decrypt"]),
        max_error=float(result["max_error"]),
        ring_degree=ring_degree.group(1) if ring_degree else "?",
        depth="n/a",
        moduli="31,26x6 + 31",
        rotation_keys="SEAL default",
        rotations="n/a",
        setup=config,
    )


def milliseconds(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:,.1f}"


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


HEADER = (
    "| case | samples/group | encrypt ms | server ms | decrypt ms | end-to-end ms | ms per sample "
    "| max abs error | N | depth | moduli bits (+ special) | rotation keys | rotations/group |"
)


def table_row(row: Measurement) -> str:
    cells = [
        row.label,
        str(row.samples_per_group),
        milliseconds(row.encrypt),
        milliseconds(row.server),
        milliseconds(row.decrypt),
        milliseconds(row.end_to_end),
        milliseconds(row.per_sample),
        f"{row.max_error:.1e}",
        row.ring_degree,
        row.depth,
        row.moduli,
        row.rotation_keys,
        row.rotations,
    ]
    return "| " + " | ".join(cells) + " |"


def ratio_row(label: str, server: str, end_to_end: str, per_sample: str) -> str:
    cells = [label, "", "", server, "", end_to_end, per_sample, "", "", "", "", "", ""]
    return "| " + " | ".join(cells) + " |"


def main_table(rows: dict[str, Measurement | None], tenseal_note: str) -> str:
    lines = [HEADER, "| --- |" + " ---: |" * 12]
    single, tenseal, batch = rows["mnist_single"], rows["tenseal"], rows["mnist_batch"]
    lines.append(table_row(single))
    if tenseal is not None:
        lines.append(table_row(tenseal))
        lines.append(
            ratio_row(
                "(a) ratio henn / TenSEAL",
                ratio(single.server, tenseal.server),
                ratio(single.end_to_end, tenseal.end_to_end),
                ratio(single.per_sample, tenseal.per_sample),
            )
        )
    else:
        lines.append(ratio_row(f"(a) TenSEAL: {tenseal_note}", "", "", ""))
    lines.append(table_row(batch))
    lines.append(
        ratio_row(
            "(b) ratio (a) / (b) per image", "", "", ratio(single.per_sample, batch.per_sample)
        )
    )
    for key in ("edss64_single", "edss64_batch", "edss32_single", "edss32_batch"):
        lines.append(table_row(rows[key]))
    return "\n".join(lines)


def layer_table(row: Measurement) -> str:
    server = sum(layer.seconds for layer in row.layers)
    lines = [
        f"#### {row.label}: {row.samples_per_group} sample(s) per group; {row.setup}",
        "",
        "| layer | kind | level after | rotations | ms | share |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for layer in row.layers:
        share = layer.seconds / server if server else 0.0
        lines.append(
            f"| {layer.name} | {layer.kind} | {layer.level} | {layer.rotations} "
            f"| {layer.seconds * 1e3:,.1f} | {share:.0%} |"
        )
    return "\n".join(lines)


def dominant_layer_line(row: Measurement) -> str:
    """Where the server time of ``row`` goes: its slowest layer."""
    layer = max(row.layers, key=lambda item: item.seconds)
    total = sum(item.seconds for item in row.layers)
    kind = layer.kind.split(" (")[0]
    share = layer.seconds / total
    return (
        f"    where the time goes ({row.label}): layer {layer.name} ({kind}, "
        f"{layer.rotations} rotations) takes {layer.seconds * 1e3:,.0f} ms of "
        f"{total * 1e3:,.0f} ms of layer time ({share:.0%})"
    )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def targets_block(rows: dict[str, Measurement | None], tenseal_note: str) -> str:
    single, tenseal, batch = rows["mnist_single"], rows["tenseal"], rows["mnist_batch"]
    lines = ["### Targets", ""]

    if tenseal is None:
        lines.append(f"- (a) henn faster than TenSEAL per image: NOT MEASURED ({tenseal_note})")
    else:
        passed = single.end_to_end < tenseal.end_to_end
        lines.append(
            f"- (a) henn faster than TenSEAL per image, same run: {verdict(passed)} "
            f"(end-to-end {single.end_to_end * 1e3:,.0f} ms vs {tenseal.end_to_end * 1e3:,.0f} "
            f"ms, {ratio(single.end_to_end, tenseal.end_to_end)}; evaluation alone "
            f"{ratio(single.server, tenseal.server)})"
        )
        if not passed:
            lines.append(dominant_layer_line(single))

    gain = single.per_sample / batch.per_sample
    passed = gain >= BATCH_GAIN_TARGET
    lines.append(
        f"- (b) batch mode at least {BATCH_GAIN_TARGET:.0f}x less time per image than (a): "
        f"{verdict(passed)} ({gain:.1f}x: {batch.per_sample * 1e3:,.0f} ms vs "
        f"{single.per_sample * 1e3:,.0f} ms per image, {batch.samples_per_group} images per group)"
    )
    if not passed:
        lines.append(dominant_layer_line(batch))
    if not passed and batch.rotations == single.rotations:
        lines.append(
            f"    a group costs the same operations whatever it holds, so the gain is at most "
            f"the {batch.samples_per_group} images it packs (plus timing noise); "
            f"{BATCH_GAIN_TARGET:.0f}x needs at least {BATCH_GAIN_TARGET:.0f} images per "
            f"ciphertext group or cheaper groups"
        )

    for size, features in ((64, 24), (32, 6)):
        patient, slices = rows[f"edss{size}_single"], rows[f"edss{size}_batch"]
        name = f"HybridEDSSNet({size}, {features})"
        passed = patient.end_to_end < PATIENT_SECONDS_TARGET
        lines.append(
            f"- (c) {name} under {PATIENT_SECONDS_TARGET:.0f} s per patient: {verdict(passed)} "
            f"({patient.end_to_end:.2f} s)"
        )
        if not passed:
            lines.append(dominant_layer_line(patient))
        passed = slices.per_sample < SLICE_SECONDS_TARGET
        lines.append(
            f"- (c) {name} under {SLICE_SECONDS_TARGET * 1e3:.0f} ms per slice in batch mode: "
            f"{verdict(passed)} ({slices.per_sample * 1e3:,.0f} ms per slice, "
            f"{slices.samples_per_group} slices per group)"
        )
        if not passed:
            lines.append(dominant_layer_line(slices))
    return "\n".join(lines)


def tenseal_available(skip: bool) -> tuple[bool, str]:
    if skip:
        return False, "skipped with --skip-tenseal"
    if importlib.util.find_spec("tenseal") is None:
        return False, f"TenSEAL is not installed: {TENSEAL_INSTALL_HINT}"
    return True, ""


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per configuration (default 3)"
    )
    parser.add_argument("--skip-tenseal", action="store_true", help="do not time TenSEAL")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    numba.set_num_threads(1)
    torch.set_num_threads(1)
    use_tenseal, tenseal_note = tenseal_available(args.skip_tenseal)
    if tenseal_note.startswith("TenSEAL is not installed"):
        print(tenseal_note)
    start = time.perf_counter()

    images = mnist_images(CALIBRATION_SAMPLES)
    rows: dict[str, Measurement | None] = {}
    rows["mnist_single"], rows["mnist_batch"] = measure_pair(
        mnist_network(), (images,), ("(a) henn MNIST", "(b) henn MNIST batch"), args.repeats
    )
    rows["tenseal"] = None
    if use_tenseal:
        try:
            rows["tenseal"] = measure_tenseal(args.repeats)
        except peers.PeerNotInstalledError:
            tenseal_note = f"TenSEAL is not installed: {TENSEAL_INSTALL_HINT}"
            print(tenseal_note)

    for size, features in ((64, 24), (32, 6)):
        model, calibration = edss_model(size, features)
        label = f"(c) EDSS {size}x{size}+{features}"
        rows[f"edss{size}_single"], rows[f"edss{size}_batch"] = measure_pair(
            model, calibration, (f"{label} per patient", f"{label} batch"), args.repeats
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"### henn encrypted inference, one thread (Numba {numba.get_num_threads()}, torch "
        f"{torch.get_num_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}), median of "
        f"{args.repeats} after a warm-up; {os.cpu_count()} CPUs, load average {load:.1f}\n"
    )
    print(main_table(rows, tenseal_note))
    print()
    if rows["tenseal"] is not None:
        print(f"TenSEAL: {rows['tenseal'].setup}; its encrypt and decrypt are not timed apart.\n")
    for key in LAYER_TABLES:
        print(layer_table(rows[key]))
        print()
    print(targets_block(rows, tenseal_note))
    print(f"\nwhole run: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
