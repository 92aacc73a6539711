"""Builds the one extension module, oauth_proxy._core, against the CPython limited API (abi3).

Everything else lives in pyproject.toml. OAUTH_PROXY_CFLAGS adds compiler flags (the test build uses
-Wall -Wextra -Werror; sanitizer builds add -fsanitize=...).
"""
import email.parser
import glob
import os
import shlex

from setuptools import Extension, setup

LIMITED_API = "0x030A0000"  # 3.10: PyUnicode_AsUTF8AndSize joined the limited API there

extra_compile_args = ["-std=c11", "-fvisibility=hidden"]
extra_compile_args += shlex.split(os.environ.get("OAUTH_PROXY_CFLAGS", ""))
extra_link_args = shlex.split(os.environ.get("OAUTH_PROXY_LDFLAGS", ""))

core = Extension(
    "oauth_proxy._core",
    # csrc/core is pure C (no Python header); csrc/py is the CPython binding over it.
    sources=sorted(glob.glob("csrc/core/*.c") + glob.glob("csrc/py/*.c")),
    depends=sorted(glob.glob("csrc/core/*.h") + glob.glob("csrc/py/*.h")),
    include_dirs=["csrc/core", "csrc/py"],
    define_macros=[("Py_LIMITED_API", LIMITED_API), ("_GNU_SOURCE", None)],
    py_limited_api=True,
    # libcurl is deliberately absent: it is dlopen'ed only when phantom tokens are enabled.
    libraries=["crypto", "dl"],
    extra_compile_args=extra_compile_args,
    extra_link_args=extra_link_args,
)



def long_description() -> str:
    """README.md in a checkout. The sdist leaves README.md out (MANIFEST.in): its PKG-INFO holds the same text
    as the metadata's description, and a build from the sdist takes it from there, so the sdist carries the
    README once instead of three times (README.md, PKG-INFO, the egg-info's PKG-INFO)."""
    if os.path.exists("README.md"):
        with open("README.md", encoding="utf-8") as stream:
            return stream.read()
    with open("PKG-INFO", encoding="utf-8") as stream:
        return str(email.parser.Parser().parse(stream).get_payload())


setup(ext_modules=[core], long_description=long_description(), long_description_content_type="text/markdown",
      options={"bdist_wheel": {"py_limited_api": "cp310"}})
