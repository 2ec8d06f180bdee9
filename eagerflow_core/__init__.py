"""eagerflow: eager tensors, gradients of anything, on any backend plugin.

>>> import eagerflow_core as ef
>>> x = ef.constant([[2.0, 0.0], [0.0, 1.0]])
>>> ef.matmul(x, x)
ef.Tensor([[4., 0.],
           [0., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')

The package face only re-exports; each name lives in a private module or in ``ops/``.
"""

from __future__ import annotations

from . import cuda  # noqa: F401  (ef.cuda namespace)
from . import data  # noqa: F401  (ef.data namespace: input pipelines)
from . import distributed  # noqa: F401  (ef.distributed; mpi4py is imported by init() only)
from . import fft  # noqa: F401  (ef.fft namespace)
from . import initializers  # noqa: F401  (ef.initializers namespace: Keras' initialisers)
from . import layers  # noqa: F401  (ef.layers namespace: Keras' layers)
from . import linalg  # noqa: F401  (ef.linalg namespace)
from . import nn  # noqa: F401  (ef.nn namespace)
from . import losses  # noqa: F401  (ef.losses namespace)
from . import metrics  # noqa: F401  (ef.metrics namespace)
from . import optimizers  # noqa: F401  (ef.optimizers namespace)
from . import random  # noqa: F401  (ef.random namespace)
from .nn import one_hot  # TensorFlow's tf.one_hot
from . import train  # noqa: F401  (ef.train namespace: checkpoints)
from . import saved_model  # noqa: F401  (ef.saved_model: save / load traced functions)
from . import ops as _ops
from .autodiff import (GradientTape, GradientTapeError, Variable, custom_gradient, grad, identity,
                       hessian, jacobian, jvp, stop_gradient, value_and_grad, vjp)
from ._devices import Device, default_device, device, devices
from ._dtypes import (DType, bfloat16, can_cast, complex64, complex128, finfo, float16, float32,
                      float64, iinfo, int8, int16, int32, int64, isdtype, promote_types,
                      result_type, uint8, uint16, uint32, uint64)
from ._dtypes import bool_ as bool  # noqa: A001  (the standard names it ef.bool)
from ._dispatch_errors import set_kernel_checks
from ._errors import (ArgumentTypeError, AxisError, DeviceError, DTypeError, EagerflowError,
                      InvalidArgumentError, KernelError, KernelNotFoundError, OutOfRangeError,
                      PluginError, ShapeError)
from ._fallback import (FallbackWarning, explain_dispatch, fallback_stats, reset_fallback_stats,
                        set_fallback_policy)
from ._info import __array_namespace_info__
from ._init_scope import init_scope
from .function import RetracingWarning, TensorSpec, TracingError, cond, function, switch_case, while_loop
from .function import print_ as print  # noqa: A001  (ef.print, TensorFlow's tf.print)
from ._streams import Event, Stream, current_stream, empty_cache, memory_stats, synchronize
from ._tensor import Tensor
from .ops import *  # noqa: F401,F403
from .module import Module
from .optimizers.clipping import clip_by_global_norm, clip_by_norm
from .plugins.loader import BackendInfo, PluginWarning

from . import _state as _st

_st.hooks.namespace = _st.__class__  # replaced below, once the module object is complete

__version__ = "0.1.0"
__array_api_version__ = "2024.12"

e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None


def backends():
    """Every installed backend plugin: name, device type, version, status and the reason.

    >>> import eagerflow_core as ef
    >>> [b.name for b in ef.backends() if b.available][:1]
    ['numpy']
    """
    from .plugins.loader import report
    return report()


__all__ = (["__array_namespace_info__", "fallback_stats", "reset_fallback_stats",
            "set_fallback_policy", "explain_dispatch", "set_kernel_checks",
            "Stream", "Event", "current_stream", "synchronize", "memory_stats", "empty_cache",
            "function", "TensorSpec", "TracingError", "RetracingWarning", "cond", "switch_case", "while_loop", "print", "FallbackWarning", "Tensor", "DType", "Device", "device", "devices", "default_device", "backends",
            "BackendInfo", "PluginWarning",
            "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
            "can_cast", "finfo", "iinfo", "isdtype", "promote_types", "result_type",
            "e", "pi", "inf", "nan", "newaxis",
            "EagerflowError", "ShapeError", "AxisError", "DTypeError", "ArgumentTypeError",
            "InvalidArgumentError", "OutOfRangeError", "DeviceError", "KernelNotFoundError",
            "KernelError", "PluginError"]
           + ["data"]
           + ["GradientTape", "GradientTapeError", "Variable", "grad", "value_and_grad", "vjp",
              "jvp", "jacobian", "hessian", "custom_gradient", "stop_gradient", "identity",
              "one_hot"]
           + ["Module", "clip_by_global_norm", "clip_by_norm", "init_scope"]
           + _ops.__all__
           + ["random", "losses", "metrics", "optimizers", "train", "layers", "initializers"])

# TensorFlow's everyday array ops (ops/tf_array.py, ops/tf_compose.py) and the ef.math
# namespace (issue #8 item 3)
from . import math  # noqa: E402,F401  (ef.math namespace: tf.math's names)
from .math import reduce_logsumexp  # noqa: E402
from .ops import tf_array as _tf_array, tf_compose as _tf_compose  # noqa: E402
from .ops.tf_array import *  # noqa: E402,F401,F403
from .ops.tf_compose import *  # noqa: E402,F401,F403

__all__ = __all__ + _tf_array.__all__ + _tf_compose.__all__ + ["math", "reduce_logsumexp"]

import sys as _sys  # noqa: E402

_st.hooks.namespace = _sys.modules[__name__]  # what Tensor.__array_namespace__ returns
