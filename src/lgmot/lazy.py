"""Names of a package imported on first use (PEP 562), so that ``import lgmot`` and the tracking
path never pay for torch, torch_geometric or the training loop they do not use."""
from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]], namespace: dict
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``modules`` (submodule -> names) is
    imported from its submodule when first asked for, then kept in ``namespace`` (the package's
    globals)."""
    where = {name: mod for mod, names in modules.items() for name in names}

    def __getattr__(name: str):
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{mod}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
