"""A snapshot of the pinned timm's model registry, shipped as data.

`leaderboard check` runs on every pull request on a CPU runner; importing timm there would
pull in torch (GBs) just to learn model names. We ship the names, default pretrained configs
and families as JSON, regenerate it with ``leaderboard timm-catalog`` when the pin moves, and a
test compares it with the installed timm wherever timm is installed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

CATALOG_RESOURCE = "timm_catalog.json"


@dataclass(frozen=True)
class PretrainedDefaults:
    """timm's default evaluation config of one pretrained tag."""

    img_size: int
    crop_pct: float
    interpolation: str
    hf_hub_id: str | None
    url: str | None
    license: str | None


@dataclass(frozen=True)
class TimmCatalog:
    """Architecture names, families and pretrained defaults of one timm version."""

    timm_version: str
    families: dict[str, str]
    pretrained: dict[str, PretrainedDefaults]

    @property
    def architectures(self) -> frozenset[str]:
        """Every name in ``timm.list_models()``."""
        return frozenset(self.families)

    def family_of(self, architecture: str) -> str | None:
        """timm's module name for an architecture (``resnet``, ``vision_transformer``...)."""
        return self.families.get(architecture)


@lru_cache(maxsize=1)
def load_catalog() -> TimmCatalog:
    """Load the shipped catalog."""
    text = resources.files("leaderboard.data").joinpath(CATALOG_RESOURCE).read_text("utf-8")
    return catalog_from_dict(json.loads(text))


def catalog_from_dict(data: dict[str, Any]) -> TimmCatalog:
    """Build a catalog from its JSON form."""
    return TimmCatalog(
        timm_version=data["timm_version"],
        families=dict(data["families"]),
        pretrained={k: PretrainedDefaults(**v) for k, v in data["pretrained"].items()},
    )


def generate_catalog_dict() -> dict[str, Any]:
    """Read the installed timm's registry (imports timm, hence torch)."""
    import timm
    from timm.models import _registry as registry

    families = {name: registry._model_to_module.get(name, "unknown") for name in timm.list_models()}
    pretrained: dict[str, Any] = {}
    for name in timm.list_pretrained():
        cfg = timm.models.get_pretrained_cfg(name)
        if cfg is None:
            continue
        pretrained[name] = {
            "img_size": int(cfg.input_size[-1]),
            "crop_pct": float(cfg.crop_pct),
            "interpolation": str(cfg.interpolation),
            "hf_hub_id": cfg.hf_hub_id,
            "url": cfg.url or None,
            "license": cfg.license,
        }
    return {
        "timm_version": timm.__version__,
        "families": dict(sorted(families.items())),
        "pretrained": dict(sorted(pretrained.items())),
    }


def write_catalog(path: Path) -> None:
    """Regenerate the catalog file from the installed timm."""
    from leaderboard.records import atomic_write_text

    atomic_write_text(path, json.dumps(generate_catalog_dict(), indent=1, sort_keys=False) + "\n")
