"""Modules imported when first used, so that a command waits only for what it runs."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """The module ``name``, executed on its first attribute access: ``pipeline --help`` and
    ``pipeline check`` answer without waiting for pandas, XlsxWriter and python-docx."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import does: ``import pipeline.report`` then finds ``pipeline.report``
        setattr(sys.modules[parent], child, module)
    return module


def load(module: ModuleType) -> None:
    """Execute a ``lazy`` module now rather than on its first use (reading any attribute does):
    for a command that has the time while it waits on its workers."""
    getattr(module, "__name__")
