"""Reader for CTranslate2's ``model.bin``, in numpy only (no ctranslate2 import needed).

Layout (CTranslate2 ``python/ctranslate2/specs/model_spec.py`` ``_serialize`` and the C++
loader in ``src/models/model.cc``), little-endian:

    uint32 binary_version                      (this reader: 3..6)
    string spec name, uint32 spec revision     (version >= 2)
    uint32 n_variables, then per variable:
        string name, uint8 rank, uint32 dims[rank],
        uint8 dtype id (version >= 4; older files store the item size instead),
        uint32 n_bytes, bytes data
    uint32 n_aliases, then per alias: string alias, string target   (version >= 3)

A string is a uint16 length (counting a trailing NUL), the UTF-8 bytes and the NUL. The dtype ids
follow the DataType enum of ``include/ctranslate2/types.h``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_asr.errors import ModelError

# Order of CTranslate2's DataType enum.
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_ITEM_SIZE_DTYPES = {4: "float32", 2: "int16", 1: "int8"}  # binary versions before 4
_SUPPORTED_VERSIONS = range(3, 7)


@dataclass(frozen=True)
class Ct2Model:
    """The variables of one CTranslate2 model file, with aliases resolved to their targets."""

    spec: str
    revision: int
    binary_version: int
    variables: dict[str, np.ndarray] = field(repr=False)
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        """The variable called ``name`` (following an alias), or ModelError naming it."""
        target = self.aliases.get(name, name)
        try:
            return self.variables[target]
        except KeyError:
            raise ModelError(f"the CTranslate2 model has no variable {name!r}") from None

    def has(self, name: str) -> bool:
        """Whether ``name`` is a variable or an alias of one."""
        return self.aliases.get(name, name) in self.variables

    def scalar(self, name: str, default: float | None = None) -> float:
        """A 0-d variable as a Python number."""
        if not self.has(name):
            if default is None:
                raise ModelError(f"the CTranslate2 model has no variable {name!r}")
            return default
        return float(self.get(name).reshape(-1)[0])


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.offset, self.path = data, 0, path

    def take(self, n: int) -> memoryview:
        if self.offset + n > len(self.data):
            raise ModelError(f"{self.path} is truncated or not a CTranslate2 model "
                             f"(needed {n} bytes at offset {self.offset})")
        view = memoryview(self.data)[self.offset:self.offset + n]
        self.offset += n
        return view

    def unpack(self, fmt: str) -> int:
        return int(struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0])

    def string(self) -> str:
        n = self.unpack("H")
        raw = bytes(self.take(n))
        if not raw.endswith(b"\0"):
            raise ModelError(f"{self.path}: malformed string at offset {self.offset - n}")
        return raw[:-1].decode("utf-8")


def _to_array(raw: memoryview, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "bfloat16":
        # numpy has no bfloat16: it is the upper half of a float32.
        halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return halves.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).copy()


def read_ct2_model(path: Path) -> Ct2Model:
    """Parse a CTranslate2 ``model.bin`` (or the folder holding it) into numpy arrays."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.bin"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    reader = _Reader(data, path)
    version = reader.unpack("I")
    if version not in _SUPPORTED_VERSIONS:
        raise ModelError(f"{path}: CTranslate2 binary version {version} is not supported "
                         f"(this reader knows {_SUPPORTED_VERSIONS.start}-"
                         f"{_SUPPORTED_VERSIONS.stop - 1})")
    spec, revision = reader.string(), reader.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
        code = reader.unpack("B")
        if version >= 4:
            if code >= len(_DTYPES):
                raise ModelError(f"{path}: variable {name} has unknown type id {code}")
            dtype = _DTYPES[code]
        else:
            dtype = _ITEM_SIZE_DTYPES.get(code, "")
            if not dtype:
                raise ModelError(f"{path}: variable {name} has unknown item size {code}")
        n_bytes = reader.unpack("I")
        expected = int(np.prod(shape, dtype=np.int64)) * (2 if dtype == "bfloat16"
                                                           else np.dtype(dtype).itemsize)
        if n_bytes != expected:
            raise ModelError(f"{path}: variable {name} holds {n_bytes} bytes, its shape "
                             f"{shape} and type {dtype} need {expected}")
        variables[name] = _to_array(reader.take(n_bytes), dtype, shape)
    aliases = {}
    if version >= 3:
        for _ in range(reader.unpack("I")):
            alias = reader.string()
            aliases[alias] = reader.string()
    if reader.offset != len(data):
        raise ModelError(f"{path}: {len(data) - reader.offset} unexpected bytes after the "
                         "model")
    return Ct2Model(spec=spec, revision=revision, binary_version=version, variables=variables,
                    aliases=aliases)


def dequantized(model: Ct2Model, prefix: str) -> np.ndarray:
    """The float32 weight of the linear layer ``prefix`` (undoing int8/int16 quantization).

    CTranslate2 quantizes a weight row by row: ``q = round(w * scale)``, so ``w = q / scale``
    (``weight_scale`` holds one scale per output row for int8, one for the matrix for int16).
    """
    weight = model.get(f"{prefix}/weight")
    if weight.dtype in (np.int8, np.int16):
        scale = model.get(f"{prefix}/weight_scale").astype(np.float32)
        if scale.ndim == 1 and weight.ndim == 2:
            scale = scale[:, None]
        return weight.astype(np.float32) / scale
    return weight.astype(np.float32)
