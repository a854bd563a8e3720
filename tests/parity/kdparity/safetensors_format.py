"""The safetensors file format, read and written directly (Debian 12 has no python3-safetensors).

A file is an 8-byte little-endian header length, a JSON header mapping each tensor name to its dtype, shape and byte
range (plus an optional "__metadata__" map of strings), then the raw little-endian tensor bytes.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


def load_file(path):
    """Every tensor of the file, by name, in file order; plus the metadata map."""
    with open(path, "rb") as stream:
        (header_length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(header_length))
        data = stream.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        array = np.frombuffer(data[begin:end], dtype=torch.empty(0, dtype=dtype).numpy().dtype.newbyteorder("<"))
        tensors[name] = torch.from_numpy(array.copy()).reshape(entry["shape"])
    return tensors, metadata


def save_file(tensors, path, metadata=None):
    """Writes a name -> tensor map (and string metadata) the way the reference writer does: data 8-byte aligned."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().contiguous().numpy()
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(encoded)))
        stream.write(encoded)
        for chunk in chunks:
            stream.write(chunk)
