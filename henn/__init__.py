"""henn: compile trained PyTorch CNNs into CKKS homomorphic operations; run them as client and
server.

    compiled = henn.compile(model, example_inputs)
    client = henn.Client(compiled)
    server = henn.Server(compiled.plan, client.evaluation_keys())
    output = client.decrypt(server.run(client.encrypt(*inputs)))
"""

from henn import nn
from henn.compiler import CompiledModel, compile
from henn.errors import CompileError, HennError, PlanError, RangeError, UnsupportedModelError
from henn.plan import Plan
from henn.roles import Client, EncryptedTensors, EvaluationKeys, Server

__all__ = [
    "Client",
    "CompileError",
    "CompiledModel",
    "EncryptedTensors",
    "EvaluationKeys",
    "HennError",
    "Plan",
    "PlanError",
    "RangeError",
    "Server",
    "UnsupportedModelError",
    "compile",
    "nn",
]
