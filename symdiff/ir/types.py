"""Value types of the IR: a dtype and a number of dimensions (0 means scalar)."""

from __future__ import annotations

from dataclasses import dataclass

DTYPES = ("bool", "i64", "f64")


@dataclass(frozen=True)
class Type:
    """The static type of an IR value. Shapes are run-time values, never part of the type."""

    dtype: str
    ndim: int = 0

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}")
        if self.ndim < 0:
            raise ValueError("ndim must be >= 0")

    @property
    def is_scalar(self) -> bool:
        return self.ndim == 0

    @property
    def is_float(self) -> bool:
        return self.dtype == "f64"

    def with_ndim(self, ndim: int) -> Type:
        return Type(self.dtype, ndim)

    def with_dtype(self, dtype: str) -> Type:
        return Type(dtype, self.ndim)

    def __str__(self) -> str:
        if self.ndim == 0:
            return self.dtype
        return f"{self.dtype}[{','.join(':' * self.ndim)}]"

    @staticmethod
    def parse(text: str) -> Type:
        """Parse the printed form, e.g. ``f64``, ``i64``, ``f64[:,:]``."""
        text = text.strip()
        if "[" in text:
            head, _, rest = text.partition("[")
            if not rest.endswith("]"):
                raise ValueError(f"bad type {text!r}")
            dims = rest[:-1].split(",")
            if any(d.strip() != ":" for d in dims):
                raise ValueError(f"bad type {text!r}: dimensions are written ':'")
            return Type(_alias(head), len(dims))
        return Type(_alias(text), 0)


def _alias(name: str) -> str:
    table = {"f64": "f64", "float": "f64", "float64": "f64", "i64": "i64", "int": "i64",
             "int64": "i64", "bool": "bool"}
    if name not in table:
        raise ValueError(f"unknown dtype {name!r} (use f64, i64 or bool)")
    return table[name]


F64 = Type("f64")
I64 = Type("i64")
BOOL = Type("bool")


def promote(*dtypes: str) -> str:
    """NumPy-style promotion among bool < i64 < f64."""
    return max(dtypes, key=DTYPES.index)
