"""The environment fingerprint written into manifests and run summaries.

Never imports torch: callers that ran torch add its version themselves.
"""
from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache

from ftorch_cli import __version__

# Variables that change how many threads the kernels use.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "FTORCH_NUM_THREADS")


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def environment_fingerprint() -> dict:
    import numpy

    return {
        "ftorch_version": __version__,
        "python_version": platform.python_version(),
        "python_implementation": sys.implementation.name,
        "numpy_version": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": available_cpus(),
        "thread_variables": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ},
    }
