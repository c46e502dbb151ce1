# The C kernels are compiled by cffi (API mode) at install time; see csrc/build_ffi.py.
from setuptools import setup

setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"])
