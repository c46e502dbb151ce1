"""What a case does, and running it on torch or on the engine.

A case is one call, resolved by name on a namespace (the `torch` module or the
`engine` module) the way OpInfo resolves its variants:

| variant     | call                                  | args                      |
|-------------|---------------------------------------|---------------------------|
| function    | namespace.<dotted target>(*args, **kw) | as given                  |
| method      | args[0].<target>(*args[1:], **kw)      | args[0] is self           |
| attribute   | args[0].<target>                       | only self                 |
| setitem     | args[0][args[1]] = args[2]             | self, index, value        |
| program     | <target>(namespace, *args, **kw)       | as given                  |

A `program` call carries its Python source (`source`, defining the function
`target`), compiled with nothing but builtins in scope, so one text runs
unchanged against `lib = torch` and `lib = engine` (FT-P2C-004's autograd
semantics: graphs, hooks, grad modes, custom Functions).

The call is optionally followed by one in-place write on the output (`write`,
e.g. `out.add_(1)`) to show whether the write reaches the input through a view,
or by a gradient step (`grad`, cases.gradients) that differentiates the output
with respect to the inputs that require grad. It is observed as: the output,
the exception (type, message, stage: "call", "write" or "grad"), the inputs after
the call (when they may have changed), the version-counter deltas and, with
`grad`, the gradients and grad_fn names.

The same `run_program` serves extraction (torch), the live oracle (torch) and
conformance (engine), so the three can never disagree about what a case means.
"""
from __future__ import annotations

import builtins
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ftorch_cli.cases.gradients import GradientObservation, check_spec, run_gradients

VARIANTS = ("function", "method", "attribute", "setitem", "program")


@dataclass(frozen=True)
class Call:
    variant: str
    target: str
    write: Optional[dict] = None  # {"method": "add_", "args": <value node>}
    observe_inputs: bool = False  # record the inputs after the call
    observe_versions: bool = False  # record version-counter deltas
    grad: Optional[dict] = None  # the gradient step (cases.gradients), with its tensors under "args"
    source: Optional[str] = None  # program variant: Python source defining `target(lib, *args, **kwargs)`

    def to_json(self) -> dict:
        payload: dict[str, Any] = {"variant": self.variant, "target": self.target}
        if self.write is not None:
            payload["write"] = self.write
        if self.observe_inputs:
            payload["observe_inputs"] = True
        if self.observe_versions:
            payload["observe_versions"] = True
        if self.grad is not None:
            payload["grad"] = self.grad
        if self.source is not None:
            payload["source"] = self.source
        return payload

    @classmethod
    def from_json(cls, payload: dict) -> "Call":
        if not isinstance(payload, dict) or payload.get("variant") not in VARIANTS or not isinstance(payload.get("target"), str):
            raise ValueError(f"malformed call {payload!r}")
        if payload["variant"] == "program" and not isinstance(payload.get("source"), str):
            raise ValueError(f"program call {payload['target']!r} has no source")
        if payload.get("grad") is not None:
            check_spec(payload["grad"])
        return cls(
            variant=payload["variant"],
            target=payload["target"],
            write=payload.get("write"),
            observe_inputs=bool(payload.get("observe_inputs")),
            observe_versions=bool(payload.get("observe_versions")),
            grad=payload.get("grad"),
            source=payload.get("source"),
        )

    def without_stored_arguments(self) -> "Call":
        """The call with the tensors of its write and gradient step left out (they are decoded apart)."""
        write = None if self.write is None else {"method": self.write["method"]}
        grad = None if self.grad is None else {key: value for key, value in self.grad.items() if key != "args"}
        return Call(self.variant, self.target, write, self.observe_inputs, self.observe_versions, grad, self.source)


def stored_call_arguments(call: Call, decode: Callable[[Any], Any]) -> tuple[tuple, tuple]:
    """(write arguments, gradient-step tensors) of a recorded call, decoded by a serialize backend's `decode`."""
    write_args = tuple(decode(call.write.get("args", []))) if call.write is not None else ()
    grad_args = tuple(decode(call.grad.get("args", []))) if call.grad is not None else ()
    return write_args, grad_args


class UnresolvedCall(Exception):
    """The namespace has no callable for this variant and target."""


@dataclass
class Observation:
    output: Any = None
    exception: Optional[BaseException] = None
    stage: Optional[str] = None  # "call" or "write" when exception is set
    versions: Optional[dict] = None
    elapsed_ns: int = 0
    tensors_in: list = field(default_factory=list)  # tensor leaves of the inputs, in order
    gradients: Optional[GradientObservation] = None  # with call.grad


def dotted_attribute(namespace, dotted: str):
    value = namespace
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def compile_program(call: Call) -> Callable:
    """The function a program call's source defines (builtins only in scope); raises UnresolvedCall."""
    scope: dict[str, Any] = {"__builtins__": builtins}
    try:
        exec(compile(call.source or "", f"<program {call.target}>", "exec"), scope)
    except SyntaxError as exc:
        raise UnresolvedCall(f"program {call.target} does not compile: {exc}") from None
    function = scope.get(call.target)
    if not callable(function):
        raise UnresolvedCall(f"program source defines no function {call.target}")
    return function


def resolve(namespace, call: Call, args: list) -> Callable[[list, dict], Any]:
    """Bind the call to `namespace` before it runs, so a missing variant is told apart from a failing one."""
    if call.variant == "program":
        program = compile_program(call)
        return lambda a, k: program(namespace, *a, **k)
    if call.variant == "function":
        function = dotted_attribute(namespace, call.target)
        if not callable(function):
            raise UnresolvedCall(f"no function {call.target}")
        return lambda a, k: function(*a, **k)
    if not args:
        raise UnresolvedCall(f"{call.variant} {call.target} needs a self argument")
    self_type = type(args[0])
    if call.variant == "method":
        if not callable(getattr(self_type, call.target, None)):
            raise UnresolvedCall(f"no method Tensor.{call.target}")
        return lambda a, k: getattr(a[0], call.target)(*a[1:], **k)
    if call.variant == "attribute":
        if not hasattr(self_type, call.target):
            raise UnresolvedCall(f"no attribute Tensor.{call.target}")
        return lambda a, k: getattr(a[0], call.target)
    if call.variant == "setitem":
        if getattr(self_type, "__setitem__", None) is None:
            raise UnresolvedCall("no Tensor.__setitem__")

        def assign(a, k):
            a[0][a[1]] = a[2]

        return assign
    raise UnresolvedCall(f"unknown variant {call.variant!r}")


def tensor_leaves(value: Any, is_tensor: Callable[[Any], bool]) -> list:
    if is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in tensor_leaves(item, is_tensor)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in tensor_leaves(item, is_tensor)]
    return []


def replace_tensors(value: Any, replacements: dict, is_tensor: Callable[[Any], bool]) -> Any:
    """`value` with the tensors whose id() is a key of `replacements` swapped for their replacement."""
    if is_tensor(value):
        return replacements.get(id(value), value)
    if isinstance(value, list):
        return [replace_tensors(item, replacements, is_tensor) for item in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(replace_tensors(item, replacements, is_tensor) for item in value)
    if isinstance(value, dict):
        return {key: replace_tensors(item, replacements, is_tensor) for key, item in value.items()}
    return value


def _version(tensor) -> Optional[int]:
    version = getattr(tensor, "_version", None)
    return version if isinstance(version, int) else None


def _deltas(tensors: list, before: list) -> list:
    after = [_version(t) for t in tensors]
    return [None if a is None or b is None else a - b for a, b in zip(after, before)]


def run_program(
    bound: Callable[[list, dict], Any],
    call: Call,
    args: list,
    kwargs: dict,
    is_tensor: Callable[[Any], bool],
    write_args: tuple = (),
    grad_args: tuple = (),
    lib=None,
) -> Observation:
    """Run a resolved case; never raises for what the call does (KeyboardInterrupt aside).

    `lib` is the namespace the call was resolved on: the gradient step uses it,
    and its grad mode is restored afterwards, so a case that leaks a mode change
    (a broken `set_grad_enabled`) cannot change the cases after it."""
    grad_enabled = lib.is_grad_enabled() if hasattr(lib, "is_grad_enabled") else None
    try:
        return _run(bound, call, args, kwargs, is_tensor, write_args, grad_args, lib)
    finally:
        if grad_enabled is not None and lib.is_grad_enabled() != grad_enabled:
            lib.set_grad_enabled(grad_enabled)


def _run(bound, call: Call, args: list, kwargs: dict, is_tensor, write_args: tuple, grad_args: tuple, lib) -> Observation:
    observation = Observation(tensors_in=tensor_leaves([args, kwargs], is_tensor))
    inputs = observation.tensors_in
    versions_before = [_version(t) for t in inputs] if call.observe_versions else []
    start = time.perf_counter_ns()
    try:
        output = bound(args, kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # an engine crash must not stop the run
        observation.elapsed_ns = time.perf_counter_ns() - start
        observation.exception, observation.stage = exc, "call"
        return observation
    observation.elapsed_ns = time.perf_counter_ns() - start
    observation.output = output
    versions: dict = {}
    if call.observe_versions:
        versions["inputs_call"] = _deltas(inputs, versions_before)
    if call.grad is not None:
        try:
            inputs_requiring_grad = [t for t in inputs if t.requires_grad]
            observation.gradients = run_gradients(lib, call.grad, tensor_leaves(output, is_tensor), inputs_requiring_grad,
                                                  list(grad_args))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            observation.exception, observation.stage = exc, "grad"
            return observation
    if call.write is not None:
        outputs = tensor_leaves(output, is_tensor)
        inputs_before_write = [_version(t) for t in inputs]
        outputs_before_write = [_version(t) for t in outputs]
        try:
            for tensor in outputs:
                getattr(tensor, call.write["method"])(*write_args)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            observation.exception, observation.stage = exc, "write"
            return observation
        if call.observe_versions:
            versions["inputs_write"] = _deltas(inputs, inputs_before_write)
            versions["outputs_write"] = _deltas(outputs, outputs_before_write)
    if call.observe_versions:
        observation.versions = versions
    return observation


def exception_record(exc: BaseException, stage: str) -> dict:
    """How an exception is recorded as an expectation (and reported for the engine).

    torch appends a C++ backtrace with addresses to some messages ("Exception raised
    from ..."); it is cut so recordings are reproducible.
    """
    names = [kind.__name__ for kind in type(exc).__mro__ if kind not in (object, BaseException, Exception)]
    message = str(exc).split("\nException raised from ", 1)[0]
    return {"kind": "exception", "type": type(exc).__name__, "mro": names, "message": message[:2000], "stage": stage}
