"""Names a package exports, each imported on first use (PEP 562): a command imports only the
modules of a stage that it runs (`notecards --help` and a no-op sync run few)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, modules: dict[str, str]) -> Callable[[str], object]:
    """The package's `__getattr__`: a name of `modules` (name -> module of the package) is
    imported from its module once, then kept in the package."""

    def __getattr__(name: str) -> object:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{modules[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
