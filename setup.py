"""Only the cffi build of the C helper lives here; the metadata is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["ze/_native/_build.py:ffibuilder"])
