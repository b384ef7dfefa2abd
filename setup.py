"""Builds the runtime's compiled tree kernels; everything else is in ``pyproject.toml``.

The extension is optional: where no C compiler is available the install still
succeeds and the runtime scores with its numba kernels instead.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tabdistill.runtime._ckernels",
            sources=["tabdistill/runtime/_ckernels.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
