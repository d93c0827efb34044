#!/usr/bin/env python3
"""Writes the small, valid seed inputs of the fuzz harnesses into Tests/Fixtures/fuzz-seeds/<harness>/.

libFuzzer mutates from these, so each harness starts from files that reach deep into its reader. Needs only
numpy. model.json, state.json and metrics.jsonl seeds are copied from a run made with `mona fit` (pass its
directory as the first argument) when given.
"""
import io, json, os, pickle, shutil, struct, sys, types, zipfile
import numpy as np

root = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "fuzz-seeds")


def put(harness, name, data):
    d = os.path.join(root, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def npz(compressed, **arrays):
    b = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(b, **arrays)
    return b.getvalue()


# npy / npz
put("npy", "f4.npy", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
put("npy", "f8-fortran.npy", npy(np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))))
put("npy", "i8.npy", npy(np.array([1, -2, 3], dtype="<i8")))
put("npy", "f2-be.npy", npy(np.array([1.5, 2], dtype=">f2")))
put("npy", "bool.npy", npy(np.array([True, False])))
x = np.random.RandomState(0).randn(4, 1, 8).astype("f4")
y = np.array([0, 1, 0, 1], dtype="i8")
put("npz", "task.npz", npz(False, x_train=x, y_train=y, x_test=x, y_test=y))
put("npz", "task-deflated.npz", npz(True, x_train=x, y_train=y.astype("f4"), x_test=x[:2], y_test=y[:2]))

# safetensors
def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, arr) in tensors.items():
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)

put("safetensors", "mixed.safetensors", safetensors({
    "a": ("F32", np.arange(6, dtype="<f4").reshape(2, 3)), "b": ("F16", np.ones(3, dtype="<f2")),
    "c": ("I64", np.array([1, 2], dtype="<i8")), "d": ("BF16", np.zeros(2, dtype="<u2"))}, {"format": "pt"}))

# torch.save zip: a pickle naming torch._utils._rebuild_tensor_v2 and persistent storages, built without torch.
torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*args):  # only its name is pickled
    raise NotImplementedError
_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage:
    pass
FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage
torch._utils = utils
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

class Storage:
    def __init__(self, key, count):
        self.key, self.count = key, count

class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, {})
    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)

class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.count)
        return None

def torch_zip(obj, storages):
    p = io.BytesIO()
    TorchPickler(p, protocol=2).dump(obj)
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", p.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, arr in storages.items():
            z.writestr("archive/data/" + key, arr.astype("<f4").tobytes())
        z.writestr("archive/version", "3\n")
    return b.getvalue()

s0, s1 = Storage("0", 6), Storage("1", 4)
put("torch", "state.pt", torch_zip({"x": FakeTensor(s0, 0, (2, 3), (3, 1)), "t": FakeTensor(s0, 1, (2, 2), (1, 2)),
                                    "y": FakeTensor(s1, 0, (4,), (1,)), "step": 3, "name": "w"},
                                   {"0": np.arange(6), "1": np.arange(4)}))
put("zip", "state.pt", open(os.path.join(root, "torch", "state.pt"), "rb").read())
put("zip", "task.npz", open(os.path.join(root, "npz", "task.npz"), "rb").read())

# ONNX: ModelProto { ir_version, graph { initializer TensorProto { dims, data_type, name, raw_data }, node } }
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload

def tensor(name, dims, values, dtype=1):
    t = b"".join(field(1, 0, d) for d in dims) + field(2, 0, dtype) + field(8, 2, name.encode())
    return t + field(9, 2, np.array(values, dtype="<f4" if dtype == 1 else "<i8").tobytes())

node = field(1, 2, b"a") + field(1, 2, b"b") + field(2, 2, b"c") + field(4, 2, b"MatMul")
graph = field(5, 2, tensor("a", [2, 2], [1, 2, 3, 4])) + field(5, 2, tensor("b", [2], [5, 6], dtype=7)) + field(1, 2, node)
put("onnx", "tiny.onnx", field(1, 0, 7) + field(7, 2, graph) + field(8, 2, field(2, 0, 13)))

# gzip, yaml
import gzip
put("gzip", "hello.gz", gzip.compress(b"hello hello hello mona\n" * 20))
put("yaml", "config.yaml", """task: gunpoint
body: minilm-l6
method:
  name: mona
  innerSteps: 1
  outerSteps: 20
training:
  epochs: 10
  learningRate: 1.0e-4
  batchSize: 16
seed: 0
tags: [a, "b", 'c']
anchors: &x {k: 1}
""")

# Run metadata from a real run, when one is given.
if len(sys.argv) > 1:
    run = sys.argv[1]
    put("modeljson", "model.json", open(os.path.join(run, "checkpoints", "best", "model.json"), "rb").read())
    put("statejson", "state.json", open(os.path.join(run, "checkpoints", "best", "state.json"), "rb").read())
    put("metrics", "metrics.jsonl", open(os.path.join(run, "metrics.jsonl"), "rb").read()[:60000])
