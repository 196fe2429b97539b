"""Folders that ship with the code: the demo data (``data/``) and the web assets (``assets/``).

The repository keeps them at its top level, beside ``core/`` and ``dashapp/``; the wheel carries
them inside the packages, as ``core/data`` and ``dashapp/assets`` (``package-dir`` in
pyproject.toml). :func:`shipped_folder` finds them in both layouts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def shipped_folder(package: str, name: str) -> Path:
    """The folder ``name`` that ships with ``package``.

    Parameters
    ----------
    package : str
        A top-level package of this project, ``"core"`` or ``"dashapp"`` (it is located, not
        imported).
    name : str
        The folder, ``"data"`` or ``"assets"``.

    Returns
    -------
    Path
        ``<package>/<name>`` when it exists (an installed wheel), else ``<name>`` beside the
        package (a checkout of the repository or an editable install).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"package {package!r} is not installed", name=package)
    root = Path(spec.origin).resolve().parent
    inside = root / name
    return inside if inside.is_dir() else root.parent / name
