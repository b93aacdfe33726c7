"""This package's own requirements, read from its installed metadata (internal): what a
deployment target (an Azure ML environment, a Databricks cluster) must install beside it."""

from __future__ import annotations

from importlib import metadata

_PACKAGE = "recommenders_kit"


def requirements(extras: tuple[str, ...] = ("serving",)) -> list[str]:
    """This package's install requirements plus those of ``extras`` (nested extras expanded)."""
    from packaging.requirements import Requirement

    declared = [Requirement(r) for r in metadata.requires(_PACKAGE) or []]
    out: list[str] = []
    pending, seen = [None, *extras], set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for req in declared:
            applies = req.marker.evaluate({"extra": extra or ""}) if req.marker else extra is None
            if not applies:
                continue
            if req.name.replace("-", "_") == _PACKAGE:
                pending.extend(sorted(req.extras))
            elif str(_without_marker(req)) not in out:
                out.append(str(_without_marker(req)))
    return out


def _without_marker(req):
    req = type(req)(str(req))
    req.marker = None
    return req
