"""engine: a PyTorch-compatible tensor library over C kernels (ftorch's engine under test).

`import engine as torch` runs plain PyTorch programs inside the supported surface.
The op registry (engine._registry.REGISTRY) says what that surface is.
"""
from engine import _dtype
from engine._dtype import (  # noqa: F401
    bool, uint8, int8, int16, int32, int64, float32, float64, short, int, long, float, double,
    dtype, get_default_dtype, set_default_dtype, promote_types, can_cast, result_type,
)
from engine._device import device  # noqa: F401
from engine._memory_format import (  # noqa: F401
    memory_format, contiguous_format, channels_last, channels_last_3d, preserve_format, layout, strided,
)
from engine._tensor import Tensor, Size  # noqa: F401
from engine._storage import UntypedStorage  # noqa: F401
from engine._interop import from_numpy  # noqa: F401
from engine import _views, _indexing, _methods  # noqa: F401  (register view ops and methods)
from engine._methods import is_tensor, numel, is_floating_point  # noqa: F401
from engine import _factories  # noqa: F401
from engine._generator import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from engine._factories import as_tensor  # noqa: F401
from engine._printing import set_printoptions, get_printoptions  # noqa: F401
from engine._threads import set_num_threads, get_num_threads  # noqa: F401
from engine import _ops
from engine import _registry
from engine import nn  # noqa: F401

__version__ = "0.1.0"

from engine import autograd  # noqa: E402
from engine.autograd import (  # noqa: E402,F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from engine.autograd import tensor_methods as _autograd_tensor_methods  # noqa: E402

_ops.load_all()
_autograd_tensor_methods.install(Tensor)
_registry.install_public_names(__import__(__name__))

asarray = as_tensor
FloatTensor = DoubleTensor = LongTensor = None  # legacy typed constructors are not supported

del _ops

from engine.serialization import save, load  # noqa: E402,F401
from engine import _torch_c  # noqa: E402,F401  (engine._C mirrors the torch._C functions programs use)
from engine._deterministic import (  # noqa: E402,F401
    are_deterministic_algorithms_enabled, get_deterministic_debug_mode, is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode, use_deterministic_algorithms,
)
from engine import optim  # noqa: E402,F401
