"""Check that every carried wheel's requirements are met by what the image has (pip check, offline).

``pip install --no-deps`` installs the carried wheels without looking at their requirements:
with an older typing-extensions than pydantic-core needs, every stage would die at
``import leaderboard``. This reads each carried distribution's ``Requires-Dist`` (markers
evaluated for this interpreter, extras ignored) and checks the installed versions, then imports
what the validator needs. It also checks the pins the lease depends on: timm must be the version
``leaderboard check`` validates against (``leaderboard/data/timm_catalog.json``), carried as a
wheel and the one Python imports there. Stdlib plus ``packaging`` (which pytest brings) only.

    python3 scripts/check_carried_wheels.py /tmp/site        # on the GPU machine, after install
    python3 scripts/check_carried_wheels.py --wheels .whl    # here, after fetching (3.12 markers)
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "leaderboard" / "data" / "timm_catalog.json"


def pinned_versions() -> dict[str, str]:
    """Distribution -> the exact version the lease must run (timm: the catalog's)."""
    return {"timm": json.loads(CATALOG.read_text("utf-8"))["timm_version"]}


def pin_problems_among_wheels(wheel_dir: Path, pins: dict[str, str]) -> list[str]:
    """Before the trip: each pinned distribution is carried, at exactly its version."""
    from packaging.utils import canonicalize_name, parse_wheel_filename

    carried = {}
    for wheel in wheel_dir.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        carried.setdefault(canonicalize_name(name), []).append(str(version))
    problems = []
    for name, wanted in pins.items():
        versions = carried.get(canonicalize_name(name), [])
        if versions != [wanted]:
            problems.append(f"{name}=={wanted} must be carried (one wheel), found "
                            f"{', '.join(versions) or 'none'} (run scripts/fetch_gpu_wheels.sh)")
    return problems


def pin_problems_installed(pins: dict[str, str]) -> list[str]:
    """On the machine: the distribution Python finds first (carried wheels lead PYTHONPATH) is
    the pinned version. Read from its metadata: importing timm would cost seconds of the lease."""
    import importlib.util

    problems = []
    for name, wanted in pins.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = None
        spec = importlib.util.find_spec(name)
        where = spec.origin if spec is not None else "not importable"
        if found != wanted or spec is None:
            problems.append(f"{name} {found} is found here ({where}) but the catalog needs {wanted} "
                            "(carry it with scripts/fetch_gpu_wheels.sh)")
    return problems


def _packaging() -> tuple[type, type]:
    """``packaging``'s Requirement and Version (pip's vendored copy where it is not installed)."""
    try:
        from packaging.requirements import Requirement
        from packaging.version import Version
    except ImportError:
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    return Requirement, Version


def unmet_requirements(site_dir: Path) -> list[str]:
    """One line per requirement of a distribution in ``site_dir`` that nothing satisfies."""
    Requirement, Version = _packaging()  # noqa: N806 - classes

    problems = []
    for dist in metadata.distributions(path=[str(site_dir)]):
        name = dist.metadata["Name"]
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            try:
                installed = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                problems.append(f"{name} {dist.version} needs {requirement} but it is not installed "
                                "(add it to scripts/fetch_gpu_wheels.sh)")
                continue
            if requirement.specifier and not requirement.specifier.contains(Version(installed),
                                                                            prereleases=True):
                problems.append(f"{name} {dist.version} needs {requirement} but {installed} is "
                                "installed (carry a matching wheel in scripts/fetch_gpu_wheels.sh)")
    return problems


IMAGE_312 = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
             "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
             "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}


def unmet_among_wheels(wheel_dir: Path) -> list[str]:
    """Before the trip: requirements between the carried wheels (for Python 3.12) that do not hold.

    A requirement naming a package that is not carried is left to the image (checked there by
    :func:`unmet_requirements`).
    """
    import zipfile

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version

    carried = {}
    for wheel in sorted(wheel_dir.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        carried[canonicalize_name(name)] = (version, wheel)
    problems = []
    for name, (version, wheel) in carried.items():
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(meta).decode("utf-8").splitlines()
        for line in lines:
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is not None and not requirement.marker.evaluate(IMAGE_312):
                continue
            other = carried.get(canonicalize_name(requirement.name))
            if other is not None and not requirement.specifier.contains(Version(str(other[0])),
                                                                        prereleases=True):
                problems.append(f"{name} {version} needs {requirement}; carried: {other[1].name}")
    return problems


def main(argv: list[str]) -> int:
    """Print every gap; exit 1 when there is one or the validator does not import."""
    if len(argv) > 2 and argv[1] == "--wheels":
        problems = unmet_among_wheels(Path(argv[2]))
        problems += pin_problems_among_wheels(Path(argv[2]), pinned_versions())
        for line in problems:
            print(f"carried wheels: {line}", file=sys.stderr)
        return 1 if problems else 0
    site_dir = Path(argv[1]) if len(argv) > 1 else Path("/tmp/site")
    problems = unmet_requirements(site_dir) if site_dir.is_dir() else []
    for module in ("pydantic", "leaderboard.records", "leaderboard.measure.runner"):
        try:
            __import__(module)
        except Exception as exc:  # noqa: BLE001 - report whatever stops the import
            problems.append(f"import {module} fails: {type(exc).__name__}: {exc}")
    problems += pin_problems_installed(pinned_versions())
    for line in problems:
        print(f"carried wheels: {line}", file=sys.stderr)
    if not problems:
        count = sum(1 for _ in metadata.distributions(path=[str(site_dir)])) if site_dir.is_dir() else 0
        print(f"carried wheels: {count} distribution(s) in {site_dir}, every requirement met, "
              + ", ".join(f"{n} {v}" for n, v in pinned_versions().items()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
