"""The serializer: values and tensors round-trip bit-exactly, storage sharing survives,
and damaged records or tables fail closed with a clear message."""
from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch

from ftorch_cli.errors import BadInputFile
from ftorch_cli.serialize import CaseEncoder, NamedResult, NumpyBackend, TorchBackend, UnsupportedValue
from ftorch_cli.serialize.table import read_case_table, write_case_table


def roundtrip(value):
    encoder = CaseEncoder(torch)
    node = json.loads(json.dumps(encoder.encode_inputs(value)))  # through real JSON text
    return TorchBackend(torch, encoder.storages).decode(node), encoder


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -7, 2**70, "text", [1, [2, 3]], (1, (2,)), {"a": 1, 3: (4,)},
        1.5, -0.0, float("inf"), float("-inf"), 5e-324, complex(1.5, -0.0),
        slice(1, None, 2), slice(None), Ellipsis, (Ellipsis, None, slice(0, 1)),
    ],
)
def test_plain_values_roundtrip(value):
    decoded, _ = roundtrip(value)
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, float):
        assert math.copysign(1.0, decoded) == math.copysign(1.0, value)


def test_nan_and_torch_values_roundtrip():
    decoded, _ = roundtrip([float("nan"), torch.float64, torch.int8, torch.Size([2, 0, 3]), torch.contiguous_format,
                            torch.channels_last, torch.strided, torch.device("cpu")])
    assert math.isnan(decoded[0])
    assert decoded[1:] == [torch.float64, torch.int8, torch.Size([2, 0, 3]), torch.contiguous_format,
                           torch.channels_last, torch.strided, torch.device("cpu")]
    assert type(decoded[3]) is torch.Size


def test_unsupported_value_is_refused():
    with pytest.raises(UnsupportedValue):
        CaseEncoder(torch).encode_inputs(object())
    with pytest.raises(UnsupportedValue):
        CaseEncoder(torch).encode_inputs(torch.randn(2, dtype=torch.complex64).conj())


def _bits(tensor):
    return tensor.contiguous().view(torch.uint8 if tensor.dtype == torch.bool else
                                    {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[tensor.element_size()])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int8,
                                   torch.uint8, torch.bool, torch.complex64])
def test_tensors_are_bit_exact(dtype):
    if dtype.is_floating_point:
        values = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-40, -3.5], dtype=dtype)
    elif dtype == torch.bool:
        values = torch.tensor([True, False, True])
    elif dtype.is_complex:
        values = torch.tensor([complex(1, -0.0), complex(float("nan"), 2)], dtype=dtype)
    else:
        info = torch.iinfo(dtype)
        values = torch.tensor([info.min, info.max, 0, 1], dtype=dtype)
    decoded, _ = roundtrip(values)
    assert decoded.dtype == dtype and decoded.shape == values.shape
    assert torch.equal(_bits(decoded), _bits(values))


def test_nan_payload_and_sign_survive():
    bits = [0x7FC00123, 0xFFC00000, 0x00000001]  # NaN with payload, negative NaN, smallest denormal
    values = torch.tensor([struct.unpack("<i", struct.pack("<I", b))[0] for b in bits], dtype=torch.int32).view(torch.float32)
    decoded, encoder = roundtrip(values)
    assert decoded.view(torch.int32).tolist() == values.view(torch.int32).tolist()
    facts = NumpyBackend(encoder.storages).decode(encoder.encode_inputs(values))
    assert facts.values.view(np.uint32).tolist() == bits


def test_views_keep_strides_offset_and_shared_storage():
    base = torch.arange(60.0).reshape(3, 4, 5)
    views = [base, base.transpose(0, 2), base[1:, ::2, 1:4], base[0, 0].expand(3, 5), base[:, :0]]
    decoded, encoder = roundtrip(views)
    assert len(encoder.storages) == 1  # one storage record for all five
    for original, copy in zip(views, decoded):
        assert copy.shape == original.shape and copy.stride() == original.stride()
        assert copy.storage_offset() == original.storage_offset()
        assert torch.equal(copy, original)
    keys = {t.untyped_storage()._cdata for t in decoded}
    assert len(keys) == 1
    decoded[0][0, 0, 0] = -1.0  # writes reach the views through the shared storage
    assert decoded[1][0, 0, 0] == -1.0


def test_outputs_record_aliasing_and_share_unchanged_bytes():
    x = torch.arange(6.0).reshape(2, 3)
    encoder = CaseEncoder(torch)
    encoder.encode_inputs([x])
    view_node = encoder.encode_outputs(x.t())
    fresh_node = encoder.encode_outputs(x + 1)
    assert view_node["$tensor"]["alias"] == 0 and view_node["$tensor"]["storage"] == 0
    assert fresh_node["$tensor"]["alias"] is None and fresh_node["$tensor"]["storage"] == 1


def test_structseq_decodes_with_field_names():
    encoder = CaseEncoder(torch)
    node = encoder.encode_outputs(torch.max(torch.tensor([[1.0, 3.0], [4.0, 2.0]]), 1))
    facts = NumpyBackend(encoder.storages).decode(node)
    assert isinstance(facts, NamedResult) and facts.fields == ("values", "indices")
    assert facts.values.values.tolist() == [3.0, 4.0] and facts.indices.values.tolist() == [1, 0]


def test_a_record_reaching_past_its_storage_fails_closed():
    encoder = CaseEncoder(torch)
    node = encoder.encode_inputs(torch.arange(4.0))
    node["$tensor"]["shape"] = [100]
    for backend in (NumpyBackend(encoder.storages), TorchBackend(torch, encoder.storages)):
        with pytest.raises(UnsupportedValue, match="reaches past"):
            backend.decode(node)


def test_engine_backend_builds_shared_views():
    import ftorch_fake_engine as fake

    from ftorch_cli.conform.engine_adapter import storage_key
    from ftorch_cli.serialize import EngineBackend

    base = torch.arange(12.0).reshape(3, 4)
    encoder = CaseEncoder(torch)
    node = encoder.encode_inputs([base, base.t()[1:]])
    backend = EngineBackend(fake, encoder.storages)
    a, b = backend.decode(node)
    assert b.shape == (3, 3) and b.stride() == (1, 4) and b.storage_offset() == 1
    assert storage_key(a) == storage_key(b)
    assert backend.storage_keys(storage_key) == {storage_key(a): 0}
    np.testing.assert_array_equal(b.numpy(), base.t()[1:].numpy())


def _rows():
    return [{
        "packet_id": "FT-P2C-901", "case_id": "FT-P2C-901/x/float32/sample/0001", "op": "x", "variant_name": "",
        "dtype": "float32", "source": "opinfo.sample_inputs", "label": "l", "call": {"variant": "function", "target": "x"},
        "inputs": {"args": [], "kwargs": {"$dict": []}}, "expected": {"kind": "value", "output": None},
        "storages": [b"\x00\x01"], "atol": None, "rtol": None, "tolerance_source": "", "checks": {},
    }]


def test_case_table_roundtrip_and_damage(tmp_path):
    folder = tmp_path / "FT-P2C-901"
    folder.mkdir()
    write_case_table(folder, "FT-P2C-901", _rows(), {"seed": 1})
    table = read_case_table(folder, "FT-P2C-901")
    assert table.rows[0]["storages"] == [b"\x00\x01"] and table.rows[0]["call"]["target"] == "x"
    assert table.manifest["case_count"] == 1 and len(table.manifest["sha256"]) == 64

    data = (folder / "cases.arrow").read_bytes()
    (folder / "cases.arrow").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputFile, match="truncated or corrupted"):
        read_case_table(folder, "FT-P2C-901")
    (folder / "cases.arrow").unlink()
    with pytest.raises(BadInputFile, match="missing"):
        read_case_table(folder, "FT-P2C-901")
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(BadInputFile, match="JSON"):
        read_case_table(folder, "FT-P2C-901")
    (folder / "manifest.json").unlink()
    with pytest.raises(BadInputFile, match="ftorch extract --packet FT-P2C-901"):
        read_case_table(folder, "FT-P2C-901")
