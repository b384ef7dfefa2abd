"""Builds the runtime's compiled kernels; everything else is in ``pyproject.toml``.

The extension is optional so that the install never fails for want of a C
compiler: without it, the runtime scores with its numba kernels where numba is
installed (the full ``tabdistill`` install has it), and otherwise refuses to
build a model with an ``ImportError`` that says how to get the kernels
(:mod:`tabdistill_runtime.scorers`).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tabdistill_runtime._ckernels",
            sources=["tabdistill_runtime/_ckernels.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "tabdistill_runtime._records",
            sources=["tabdistill_runtime/_records.c", "tabdistill_runtime/_records_new.c"],
            depends=[
                "tabdistill_runtime/_records.h",
                "tabdistill_runtime/_rawvalues.h",
                "tabdistill_runtime/_rawdates.h",
            ],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "tabdistill_runtime._explain",
            sources=["tabdistill_runtime/_explain.c", "tabdistill_runtime/_explain_new.c"],
            depends=[
                "tabdistill_runtime/_explain.h",
                "tabdistill_runtime/_treeshap.h",
                "tabdistill_runtime/_shaptables.h",
            ],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
