"""The Client and Server roles: what the server can reach, what crosses as bytes, and misuse.

One two-input model (conv → ApproxReLU → pool → concat → linear) is compiled once per module;
its client, keys and server are shared, since key generation at N = 2^14 takes seconds.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from torch import nn

import ckks
import henn
from henn.roles import EncryptedTensors, EvaluationKeys
from tests.henn.helpers import Session, torch_reference


class ImageAndVector(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.relu = henn.nn.ApproxReLU(2, bound=8.0)
        self.pool = nn.AvgPool2d(2)
        self.head = nn.Linear(2 * 2 * 2 + 3, 4)

    def forward(self, image, vector):
        flat = torch.flatten(self.pool(self.relu(self.conv(image))), 1)
        return self.head(torch.cat([flat, vector], dim=1))


class ImageOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 2)
        self.square = henn.nn.Square()
        self.head = nn.Linear(49, 2)

    def forward(self, image):
        return self.head(torch.flatten(self.square(self.conv(image)), 1))


def _inputs(batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 1, 8, 8, generator=generator), torch.randn(
        batch, 3, generator=generator
    )


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return ImageAndVector().eval()


@pytest.fixture(scope="module")
def session(model):
    return Session(henn.compile(model, _inputs(8, seed=1)))


@pytest.fixture(scope="module")
def other_session():
    """Another model, other parameters (different depth), its own keys."""
    torch.manual_seed(4)
    return Session(henn.compile(ImageOnly().eval(), torch.randn(2, 1, 8, 8)))


@pytest.fixture(scope="module")
def twin_session():
    """The same architecture retrained: same parameters and rotation steps, another secret key."""
    torch.manual_seed(5)
    return Session(henn.compile(ImageAndVector().eval(), _inputs(8, seed=1)))


# -- the server holds nothing secret ----------------------------------------------------------


def reachable(root) -> list:
    """Every object reachable from ``root`` through attributes (``__dict__`` and ``__slots__``),
    containers, bound methods and closures; leaves (arrays, strings, numbers) are not entered."""
    seen, found, stack = set(), [], [root]
    leaves = (
        str,
        bytes,
        bytearray,
        int,
        float,
        complex,
        bool,
        np.ndarray,
        np.generic,
        torch.Tensor,
    )
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None:
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, (*leaves, type, types.ModuleType, types.BuiltinFunctionType)):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
            continue
        if isinstance(obj, types.MethodType):
            stack.append(obj.__self__)
            stack.append(obj.__func__)
            continue
        if isinstance(obj, types.FunctionType):
            stack.extend(cell.cell_contents for cell in obj.__closure__ or ())
            continue
        stack.extend(getattr(obj, "__dict__", {}).values())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    stack.append(getattr(obj, name))
    return found


def test_walker_finds_the_secret_key_in_the_client(session):
    # Positive control: the same walk does see the key where it is (SecretKey uses __slots__).
    assert any(isinstance(o, ckks.SecretKey) for o in reachable(session.client))


def test_server_reaches_no_secret_key(session, model):
    encrypted = session.client.encrypt(*_inputs(1, seed=2))
    session.server.run(encrypted)  # caches built while running are walked too
    objects = reachable(session.server)
    assert not [o for o in objects if isinstance(o, ckks.SecretKey)]
    assert not [o for o in objects if isinstance(o, (ckks.Decryptor, ckks.KeyGenerator))]


def test_bytes_sent_to_the_server_hold_no_secret_coefficients(session):
    secret = session.client._keygen.secret_key
    encrypted = session.client.encrypt(*_inputs(1, seed=2)).to_bytes()
    response = session.server.run(encrypted)
    patterns = [
        secret.coefficients.astype(np.int8).tobytes(),
        secret.coefficients.astype(np.int64).tobytes(),
        np.ascontiguousarray(secret.ntt).reshape(-1)[:4096].tobytes(),
    ]
    for blob in (session.plan_bytes, session.key_bytes, encrypted, response):
        for pattern in patterns:
            assert pattern not in blob


# -- bytes round trips ------------------------------------------------------------------------


def test_plan_bytes_round_trip(session):
    restored = henn.Plan.from_bytes(session.plan_bytes)
    assert restored.to_bytes() == session.plan_bytes
    assert restored.params == session.compiled.params
    assert restored.rotation_steps == session.compiled.plan.rotation_steps
    assert restored.input_shapes == [(1, 8, 8), (3,)]
    assert restored.output_shape == (4,)


def test_large_plan_bytes_round_trip():
    """A single 3×3 convolution with four output channels on a 64×64 image."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3)).eval()
    plan = henn.compile(model, torch.rand(1, 1, 64, 64)).plan
    data = plan.to_bytes()
    assert henn.Plan.from_bytes(data).to_bytes() == data


def test_key_bytes_round_trip(session):
    params = session.compiled.params
    restored = EvaluationKeys.from_bytes(session.key_bytes, params)
    assert restored.to_bytes() == session.key_bytes
    assert set(restored.galois_keys.steps) >= set(session.compiled.plan.rotation_steps)


def test_encrypted_bytes_round_trip_and_objects_equal_bytes(session, model):
    params = session.compiled.params
    inputs = _inputs(2, seed=6)
    encrypted = session.client.encrypt(*inputs)
    request = encrypted.to_bytes()
    assert EncryptedTensors.from_bytes(request, params).to_bytes() == request

    response = session.server.run(request)
    as_object = session.server.run(encrypted)
    assert isinstance(response, bytes)
    assert isinstance(as_object, EncryptedTensors)
    assert EncryptedTensors.from_bytes(response, params).to_bytes() == response

    expected = torch_reference(model, *inputs)
    for result in (response, as_object):
        got = session.client.decrypt(result)
        assert np.max(np.abs(got.numpy() - expected)) <= session.compiled.tolerance


def test_batch_of_three_has_batch_shape(session, model):
    inputs = _inputs(3, seed=7)
    got = session.run(*inputs)
    expected = torch_reference(model, *inputs)
    assert got.shape == (3, 4) == expected.shape
    assert got.dtype == torch.float32
    assert np.max(np.abs(got.numpy() - expected)) <= session.compiled.tolerance


def test_batch_split_into_groups(model):
    """Two samples per ciphertext group (``batch_size=2``): five samples travel as groups of
    2, 2 and 1 and come back in order."""
    session = Session(henn.compile(model, _inputs(8, seed=1), batch_size=2))
    inputs = _inputs(5, seed=15)
    got = session.run(*inputs)
    expected = torch_reference(model, *inputs)
    assert got.shape == (5, 4)
    assert np.max(np.abs(got.numpy() - expected)) <= session.compiled.tolerance


# -- misuse -----------------------------------------------------------------------------------


def test_wrong_number_of_inputs(session):
    image, vector = _inputs(1, seed=8)
    with pytest.raises(henn.PlanError, match=r"takes 2 input\(s\), got 1"):
        session.client.encrypt(image)
    with pytest.raises(henn.PlanError, match=r"takes 2 input\(s\), got 3"):
        session.client.encrypt(image, vector, vector)

    # A request with one tensor per sample, sent straight to the server.
    encrypted = session.client.encrypt(image, vector)
    truncated = EncryptedTensors([[sample[0]] for sample in encrypted.samples])
    with pytest.raises(henn.PlanError, match=r"expected 2 input tensor"):
        session.server.run(truncated.to_bytes())


@pytest.mark.parametrize(
    ("image_shape", "vector_shape"),
    [
        ((1, 1, 8, 7), (1, 3)),  # image too narrow
        ((1, 2, 8, 8), (1, 3)),  # two channels
        ((1, 8, 8), (1, 3)),  # no channel (or no batch) dimension
        ((1, 1, 8, 8), (1, 4)),  # vector too long
        ((1, 1, 8, 8), (3,)),  # vector without batch dimension
    ],
)
def test_wrong_shapes(session, image_shape, vector_shape):
    with pytest.raises(henn.PlanError, match="must have shape"):
        session.client.encrypt(torch.zeros(image_shape), torch.zeros(vector_shape))


def test_different_batch_sizes(session):
    with pytest.raises(henn.PlanError, match="batch"):
        session.client.encrypt(torch.zeros(2, 1, 8, 8), torch.zeros(3, 3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_input(session, bad):
    image, vector = _inputs(2, seed=9)
    image[1, 0, 3, 4] = bad
    with pytest.raises(henn.PlanError, match="NaN or infinity"):
        session.client.encrypt(image, vector)


def test_wrong_ciphertext_count_per_input(session):
    encrypted = session.client.encrypt(*_inputs(1, seed=10))
    image_cts, vector_cts = encrypted.samples[0]
    doubled = EncryptedTensors([[image_cts + image_cts, vector_cts]])
    with pytest.raises(henn.PlanError, match="ciphertext"):
        session.server.run(doubled)


def test_keys_missing_a_rotation_step_are_refused(session):
    keygen = session.client._keygen
    steps = session.compiled.plan.rotation_steps
    relinearization = session.client.evaluation_keys().relinearization_key
    partial = EvaluationKeys(relinearization, keygen.galois_keys(steps[:-1]))
    with pytest.raises(henn.PlanError, match=rf"lack the plan's rotation steps \[{steps[-1]}\]"):
        henn.Server(session.plan_bytes, partial.to_bytes())
    with pytest.raises(henn.PlanError, match="lack"):
        henn.Server(session.compiled.plan, partial)


def test_key_set_declaring_a_step_it_lacks(session):
    """A forged GaloisKeys whose declared steps include one it has no key for: refused when read
    from bytes; as an object it reaches the engine, which refuses the rotation."""
    keys = session.client.evaluation_keys()
    galois = keys.galois_keys
    dropped = next(iter(galois.keys))
    forged = ckks.GaloisKeys(
        {element: key for element, key in galois.keys.items() if element != dropped},
        galois.steps,
        galois.conjugation,
        galois.fingerprint,
        galois.params,
        galois.public_key,
    )
    forged_keys = EvaluationKeys(keys.relinearization_key, forged)
    with pytest.raises(ckks.errors.SerializationError, match="do not match the declared steps"):
        henn.Server(session.plan_bytes, forged_keys.to_bytes())
    server = henn.Server(session.compiled.plan, forged_keys)
    with pytest.raises(ckks.errors.MissingKeyError, match="no Galois key"):
        server.run(session.client.encrypt(*_inputs(1, seed=11)))


def test_plan_of_another_model_with_these_keys(session, other_session):
    assert other_session.compiled.params != session.compiled.params
    with pytest.raises(ckks.errors.SerializationError, match="parameter hash mismatch"):
        henn.Server(other_session.plan_bytes, session.key_bytes)
    with pytest.raises((henn.PlanError, ckks.errors.KeyMismatchError)):
        henn.Server(other_session.compiled.plan, session.client.evaluation_keys())


def test_inputs_for_another_plan_are_refused(session, other_session):
    encrypted = session.client.encrypt(*_inputs(1, seed=12))
    with pytest.raises(henn.PlanError, match="expected 1 input tensor"):
        other_session.server.run(encrypted)
    with pytest.raises(ckks.errors.SerializationError, match="parameter hash mismatch"):
        other_session.server.run(encrypted.to_bytes())


def test_ciphertexts_under_another_secret_key_are_refused(session, twin_session):
    assert twin_session.compiled.params == session.compiled.params
    encrypted = session.client.encrypt(*_inputs(1, seed=13))
    with pytest.raises(ckks.errors.KeyMismatchError, match="different secret key"):
        twin_session.server.run(encrypted.to_bytes())
    output = session.server.run(encrypted)
    with pytest.raises(ckks.errors.KeyMismatchError, match="different secret key"):
        twin_session.client.decrypt(output)


def test_output_of_another_plan_is_refused_by_decrypt(session, other_session):
    output = other_session.server.run(other_session.client.encrypt(torch.zeros(1, 1, 8, 8)))
    with pytest.raises(ckks.CkksError):
        session.client.decrypt(output)
    with pytest.raises(ckks.errors.SerializationError):
        session.client.decrypt(output.to_bytes())


def test_garbage_bytes_are_refused(session):
    with pytest.raises(ckks.errors.SerializationError):
        session.server.run(b"not a bundle")
    with pytest.raises(ckks.errors.SerializationError):
        henn.Server(b"not a plan", session.key_bytes)
    with pytest.raises(ckks.errors.SerializationError):
        henn.Server(session.plan_bytes, session.key_bytes[:-10])
    with pytest.raises(henn.PlanError, match="Plan"):
        henn.Server("a plan", session.key_bytes)
    with pytest.raises(henn.PlanError, match="EvaluationKeys"):
        henn.Server(session.plan_bytes, {"keys": None})


def test_inputs_outside_an_activation_interval_are_reported(session):
    """Far out of range: the client reports the activation interval and refuses before the
    values could overflow the last prime (it runs the plan on its own plaintext first)."""
    image, vector = _inputs(1, seed=14)
    with pytest.raises(henn.PlanError, match="beyond"):
        session.client.encrypt(image * 100, vector)
    assert any("'relu'" in problem for problem in session.client.range_report)

    session.client.encrypt(image, vector)  # back in range: the report is cleared
    assert session.client.range_report == []
