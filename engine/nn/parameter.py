"""`torch.nn.Parameter` for the engine: a leaf tensor a Module registers as a parameter."""
from __future__ import annotations

from engine._tensor import Tensor


class Parameter(Tensor):
    """`Parameter(data=None, requires_grad=True)`: shares data's storage, is a leaf, and requires grad
    (ops on it return plain tensors, as in torch)."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        from engine._factories import empty
        from engine._tensor import make_tensor

        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        self = make_tensor(data._storage, data._shape, data._stride, data._offset, data._dtype)
        self.__class__ = cls
        self.requires_grad = bool(requires_grad)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        from engine._tensor import make_tensor

        plain = make_tensor(self._storage, self._shape, self._stride, self._offset, self._dtype)
        plain._requires_grad = self._requires_grad
        return "Parameter containing:\n" + repr(plain)

    def __reduce_ex__(self, protocol):
        from engine._serialization import reduce_parameter

        return reduce_parameter(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        return result
