"""`torch.return_types`: the named tuples that max(dim), min(dim), aminmax, ... return.

Like torch's structseqs they are tuples (unpacking, indexing, len) with named
fields, built from one sequence (`return_types.max((values, indices))`).
"""
from __future__ import annotations


class _StructSeq(tuple):
    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, sequence):
        items = tuple(sequence)
        if len(items) != len(cls._fields):
            raise TypeError(f"torch.return_types.{cls.__name__} takes a {len(cls._fields)}-sequence "
                            f"({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self):
        fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{fields})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _struct_seq(name, fields):
    namespace = {"__slots__": (), "_fields": fields, "__module__": __name__, "__qualname__": name}
    for i, field in enumerate(fields):
        namespace[field] = property(lambda self, i=i: tuple.__getitem__(self, i))
    return type(name, (_StructSeq,), namespace)


max = _struct_seq("max", ("values", "indices"))
min = _struct_seq("min", ("values", "indices"))
aminmax = _struct_seq("aminmax", ("min", "max"))
sort = _struct_seq("sort", ("values", "indices"))
topk = _struct_seq("topk", ("values", "indices"))
kthvalue = _struct_seq("kthvalue", ("values", "indices"))
median = _struct_seq("median", ("values", "indices"))
nanmedian = _struct_seq("nanmedian", ("values", "indices"))
mode = _struct_seq("mode", ("values", "indices"))
cummax = _struct_seq("cummax", ("values", "indices"))
cummin = _struct_seq("cummin", ("values", "indices"))
linalg_slogdet = _struct_seq("linalg_slogdet", ("sign", "logabsdet"))
slogdet = _struct_seq("slogdet", ("sign", "logabsdet"))
linalg_qr = _struct_seq("linalg_qr", ("Q", "R"))
linalg_eigh = _struct_seq("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_svd = _struct_seq("linalg_svd", ("U", "S", "Vh"))
svd = _struct_seq("svd", ("U", "S", "V"))
qr = _struct_seq("qr", ("Q", "R"))
linalg_lstsq = _struct_seq("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
