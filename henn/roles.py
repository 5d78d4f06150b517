"""The two roles: the Client holds the secret key, the Server evaluates with public keys only.

Everything that crosses between them is bytes in the ckks format: the plan, the evaluation
keys (relinearization and Galois keys, which carry the public key), and bundles of ciphertexts.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

import ckks
from ckks.errors import SerializationError
from henn.backends import CkksBackend
from henn.bundle import pack_bundle, unpack_bundle
from henn.errors import PlanError
from henn.plan import Plan
from henn.ranges import evaluate, out_of_range
from henn.runtime import execute, pack_input, unpack_output

log = logging.getLogger("henn.runtime")


def _progress(enabled: bool, total: int, description: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="step", leave=False)


class EvaluationKeys:
    """Relinearization and Galois keys (with the public key inside): everything a server needs."""

    def __init__(self, relinearization_key, galois_keys):
        self.relinearization_key = relinearization_key
        self.galois_keys = galois_keys

    @property
    def nbytes(self) -> int:
        return self.relinearization_key.nbytes + self.galois_keys.nbytes

    def to_bytes(self) -> bytes:
        return pack_bundle(
            "EvaluationKeys",
            {},
            [self.relinearization_key.to_bytes(), self.galois_keys.to_bytes()],
        )

    @classmethod
    def from_bytes(cls, data: bytes, params) -> EvaluationKeys:
        _, blobs = unpack_bundle(data, "EvaluationKeys")
        if len(blobs) != 2:
            raise SerializationError(f"EvaluationKeys bundle holds {len(blobs)} blobs, expected 2")
        return cls(
            ckks.RelinearizationKey.from_bytes(blobs[0], params),
            ckks.GaloisKeys.from_bytes(blobs[1], params),
        )


class EncryptedTensors:
    """Ciphertexts of a batch, in groups: ``samples[g][k]`` lists the ciphertexts of tensor k of
    group g, which packs ``sizes[g]`` samples side by side."""

    def __init__(self, samples: list[list[list[ckks.Ciphertext]]], sizes: list[int] | None = None):
        self.samples = samples
        self.sizes = list(sizes) if sizes is not None else [1] * len(samples)

    def to_bytes(self) -> bytes:
        structure = [[len(tensor) for tensor in sample] for sample in self.samples]
        blobs = [ct.to_bytes() for sample in self.samples for tensor in sample for ct in tensor]
        return pack_bundle("EncryptedTensors", {"counts": structure, "sizes": self.sizes}, blobs)

    @classmethod
    def from_bytes(cls, data: bytes, params) -> EncryptedTensors:
        structure, blobs = unpack_bundle(data, "EncryptedTensors")
        counts = structure.get("counts")
        sizes = structure.get("sizes")
        try:
            valid = sum(sum(int(n) for n in s) for s in counts) == len(blobs)
            valid = valid and len(sizes) == len(counts) and all(int(k) >= 1 for k in sizes)
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise SerializationError("EncryptedTensors: structure does not match the blobs")
        cts = iter(ckks.Ciphertext.from_bytes(b, params) for b in blobs)
        groups = [[[next(cts) for _ in range(int(n))] for n in sample] for sample in counts]
        return cls(groups, [int(k) for k in sizes])


class Client:
    """The key holder: makes keys, encrypts inputs, decrypts and releases outputs.

    Args:
        compiled: a :class:`~henn.compiler.CompiledModel` or its :class:`Plan`.
        progress: show progress bars for key generation.
    """

    def __init__(self, compiled, progress: bool = False, secret_key=None):
        self.plan = compiled.plan if hasattr(compiled, "plan") else compiled
        if not isinstance(self.plan, Plan):
            raise PlanError(f"Client needs a CompiledModel or Plan, got {type(compiled).__name__}")
        self.params = self.plan.params
        self.progress = progress
        start = time.perf_counter()
        self._keygen = None if secret_key is not None else ckks.KeyGenerator(self.params)
        secret_key = secret_key if secret_key is not None else self._keygen.secret_key
        self._encryptor = ckks.Encryptor(self.params, secret_key)
        self._decryptor = ckks.Decryptor(self.params, secret_key)
        self._secret_key = secret_key
        self._encoder = ckks.Encoder(self.params)
        self._evaluation_keys = None
        self.range_report: list[str] = []
        log.info("client: secret and public keys in %.2f s", time.perf_counter() - start)

    def evaluation_keys(self) -> EvaluationKeys:
        """Relinearization and Galois keys for exactly the plan's rotation steps (cached)."""
        if self._evaluation_keys is None and self._keygen is None:
            raise PlanError(
                "this client was restored from a secret key without its evaluation keys; "
                "load them with Client.load(folder)"
            )
        if self._evaluation_keys is None:
            start = time.perf_counter()
            bar = _progress(self.progress, len(self.plan.rotation_steps) + 1, "key generation")
            relin = self._keygen.relinearization_key()
            if bar is not None:
                bar.update(1)
            keys = {}
            for step in self.plan.rotation_steps:
                keys.update(self._keygen.galois_keys([step]).keys)
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
            galois = ckks.GaloisKeys(
                keys,
                self.plan.rotation_steps,
                False,
                self._keygen.secret_key.fingerprint,
                self.params,
                self._keygen.public_key(),
            )
            self._evaluation_keys = EvaluationKeys(relin, galois)
            log.info(
                "client: %d Galois keys + relinearization key, %.1f MiB, in %.2f s",
                len(keys),
                self._evaluation_keys.nbytes / 2**20,
                time.perf_counter() - start,
            )
        return self._evaluation_keys

    def save(self, folder) -> None:
        """Write plan.bin, evaluation_keys.bin and secret.key (owner-only) into ``folder``.

        Only plan.bin and evaluation_keys.bin may go to the server; secret.key never leaves.
        """
        from pathlib import Path

        from ckks.serialization import write_atomically

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / "plan.bin", self.plan.to_bytes())
        write_atomically(folder / "evaluation_keys.bin", self.evaluation_keys().to_bytes())
        ckks.save_secret_key(self._secret_key, folder / "secret.key")

    @classmethod
    def load(cls, folder, progress: bool = False) -> Client:
        """Restore a client written by :meth:`save`."""
        from pathlib import Path

        folder = Path(folder)
        try:
            plan = Plan.from_bytes((folder / "plan.bin").read_bytes())
            keys_bytes = (folder / "evaluation_keys.bin").read_bytes()
        except OSError as error:
            raise PlanError(f"cannot read the client folder {folder}: {error}") from None
        secret_key = ckks.load(folder / "secret.key", plan.params, expected="SecretKey")
        client = cls(plan, progress=progress, secret_key=secret_key)
        client._evaluation_keys = EvaluationKeys.from_bytes(keys_bytes, plan.params)
        return client

    def encrypt(self, *inputs) -> EncryptedTensors:
        """Encrypt a batch: one tensor per model input, each with a batch dimension first."""
        arrays = self._check_inputs(inputs)
        values = evaluate(self.plan.program, arrays)
        self.range_report = out_of_range(self.plan.program, values)
        self._check_headroom(values)
        groups, sizes = [], []
        per_group = self.plan.batch_size
        stride = self.plan.sample_stride if per_group > 1 else 0
        for first in range(0, arrays[0].shape[0], per_group):
            group = []
            for value, array in zip(self.plan.program.input_ids, arrays, strict=True):
                chunk = array[first : first + per_group]
                vectors = pack_input(
                    self.plan.layouts[value],
                    chunk if stride else chunk[0],
                    self.params.slot_count,
                    stride,
                )
                group.append([self._encryptor.encrypt(self._encoder.encode(v)) for v in vectors])
            groups.append(group)
            sizes.append(len(array[first : first + per_group]))
        return EncryptedTensors(groups, sizes)

    def decrypt(self, encrypted: EncryptedTensors | bytes, exact: bool = False) -> torch.Tensor:
        """The output tensor (batch first). Released values are flooded and rounded to the
        plan's precision unless ``exact`` (for the key holder's own use only)."""
        if isinstance(encrypted, (bytes, bytearray)):
            encrypted = EncryptedTensors.from_bytes(encrypted, self.params)
        layout = self.plan.layouts[self.plan.program.output]
        results = []
        stride = self.plan.sample_stride if self.plan.batch_size > 1 else 0
        for sample, size in zip(encrypted.samples, encrypted.sizes, strict=True):
            if len(sample) != 1 or len(sample[0]) != layout.ciphertexts:
                raise PlanError(
                    f"decrypt: expected 1 output tensor of {layout.ciphertexts} ciphertext(s), "
                    f"got {[len(t) for t in sample]}"
                )
            if size > self.plan.batch_size:
                raise PlanError(f"decrypt: a group of {size} samples exceeds the plan's batch")
            vectors = [self._open(ct, exact) for ct in sample[0]]
            if stride:
                results.extend(unpack_output(layout, vectors, size, stride))
            else:
                results.append(unpack_output(layout, vectors))
        for problem in self.range_report:
            log.warning("client: %s; this output may be inaccurate", problem)
        return torch.tensor(np.stack(results), dtype=torch.float32)

    def _check_headroom(self, values: dict) -> None:
        """Refuse inputs whose values would overflow the last prime (caught here, not after the
        server's work: the client can run the plan on its own plaintext)."""
        limit = self.params.moduli[0] / (2.0 * self.params.scale)
        peak = max((float(np.max(np.abs(v))) for v in values.values() if v.size), default=0.0)
        if peak >= limit:
            raise PlanError(
                f"encrypt: these inputs drive the model's values up to {peak:.4g}, beyond the "
                f"{limit:.4g} the plan's parameters hold (first prime 2^"
                f"{np.log2(self.params.moduli[0]):.0f}, scale 2^{self.params.scale_bits}); "
                f"normalise the inputs like the calibration data, or compile with calibration "
                f"data that covers them"
            )

    def _open(self, ct, exact: bool) -> np.ndarray:
        if exact:
            return self._encoder.decode(self._decryptor.decrypt(ct)).real
        return self._decryptor.decrypt_for_release(ct, self.plan.precision_bits).real

    def _check_inputs(self, inputs) -> list[np.ndarray]:
        shapes = self.plan.input_shapes
        if len(inputs) != len(shapes):
            raise PlanError(f"encrypt: the model takes {len(shapes)} input(s), got {len(inputs)}")
        arrays = []
        batch = None
        for index, (tensor, shape) in enumerate(zip(inputs, shapes, strict=True)):
            array = (
                tensor.detach().cpu().double().numpy()
                if torch.is_tensor(tensor)
                else np.asarray(tensor, dtype=np.float64)
            )
            if tuple(array.shape[1:]) != tuple(shape):
                expected = ", ".join(map(str, shape))
                raise PlanError(
                    f"encrypt: input {index} must have shape (batch, {expected}), "
                    f"got {tuple(array.shape)}"
                )
            if not np.all(np.isfinite(array)):
                raise PlanError(f"encrypt: input {index} contains NaN or infinity")
            if batch is not None and array.shape[0] != batch:
                raise PlanError("encrypt: inputs have different batch sizes")
            batch = array.shape[0]
            arrays.append(array)
        return arrays


class Server:
    """Evaluates a plan on encrypted inputs with evaluation keys only.

    Args:
        plan: a :class:`Plan` or its bytes.
        evaluation_keys: :class:`EvaluationKeys` or their bytes.
        progress: show a progress bar over layers.
    """

    def __init__(self, plan, evaluation_keys, progress: bool = False):
        if isinstance(plan, (bytes, bytearray)):
            plan = Plan.from_bytes(plan)
        if not isinstance(plan, Plan):
            raise PlanError(f"Server needs a Plan or its bytes, got {type(plan).__name__}")
        self.plan = plan
        if isinstance(evaluation_keys, (bytes, bytearray)):
            evaluation_keys = EvaluationKeys.from_bytes(evaluation_keys, plan.params)
        if not isinstance(evaluation_keys, EvaluationKeys):
            raise PlanError(
                f"Server needs EvaluationKeys or their bytes, got {type(evaluation_keys).__name__}"
            )
        missing = sorted(
            set(plan.rotation_steps)
            - {s % plan.params.slot_count for s in evaluation_keys.galois_keys.steps}
        )
        if missing:
            raise PlanError(f"the evaluation keys lack the plan's rotation steps {missing}")
        self.progress = progress
        # The compiler checked every value's range on calibration data in simulation, so the
        # engine's worst-case bound propagation (sums of |w|·|x|) would only raise false alarms.
        self._evaluator = ckks.Evaluator(
            plan.params,
            evaluation_keys.relinearization_key,
            evaluation_keys.galois_keys,
            check_bounds=False,
        )
        self._lowered = plan.lowered()
        self._plain_cache: dict = {}
        self.last_timings: list = []

    def run(self, encrypted: EncryptedTensors | bytes):
        """Evaluate the plan on every sample; returns EncryptedTensors (bytes in, bytes out)."""
        as_bytes = isinstance(encrypted, (bytes, bytearray))
        if as_bytes:
            encrypted = EncryptedTensors.from_bytes(encrypted, self.plan.params)
        program = self.plan.program
        outputs = []
        for sample in encrypted.samples:
            if len(sample) != len(program.input_ids):
                raise PlanError(
                    f"run: expected {len(program.input_ids)} input tensor(s) per sample"
                )
            backend = CkksBackend(
                self.plan.params,
                self._evaluator,
                self.plan.power_of_two_rotations,
                plain_cache=self._plain_cache,
            )
            inputs = {}
            for value, cts in zip(program.input_ids, sample, strict=True):
                if len(cts) != self.plan.layouts[value].ciphertexts:
                    raise PlanError(
                        f"run: input {value} needs {self.plan.layouts[value].ciphertexts} "
                        f"ciphertext(s), got {len(cts)}"
                    )
                inputs[value] = cts
            bar = _progress(self.progress, len(self._lowered), "encrypted inference")
            result, self.last_timings = execute(backend, self._lowered, inputs, program.output, bar)
            if bar is not None:
                bar.close()
            outputs.append([result])
        result = EncryptedTensors(outputs, encrypted.sizes)
        return result.to_bytes() if as_bytes else result
