"""Rendered Kubernetes manifests for the deploy checks: every overlay rendered by the real kustomize
(kubectl's) that `make deploy-check` extracts, parsed by the pinned npm `yaml` package."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBECTL = ROOT / "node_modules/.cache/kubectl/kubectl"
VALIDATE = ROOT / "deploy/tools/validate.mjs"
OVERLAYS = ("dev", "prod")

Obj = dict[str, Any]


def require_tooling() -> None:
    """The deploy tooling comes from npm; `make deploy-check`, `make unit` and `make test` install
    it first. Run by hand without it, these checks fail, saying so, rather than pass unchecked."""
    missing = [
        what
        for what, ok in (("kubectl", KUBECTL.exists()), ("node", shutil.which("node") is not None), ("yaml", (ROOT / "node_modules/yaml").exists()))
        if not ok
    ]
    if missing:
        pytest.fail(f"deploy tooling missing ({', '.join(missing)}): run `make deploy-check` once")


def run_validator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(VALIDATE), *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Obj]]:
    """overlay name -> its objects."""
    require_tooling()
    out: dict[str, list[Obj]] = {}
    directory = tmp_path_factory.mktemp("rendered")
    for overlay in OVERLAYS:
        result = subprocess.run(
            [str(KUBECTL), "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"kustomize {overlay} failed:\n{result.stderr}"
        path = directory / f"{overlay}.yaml"
        path.write_text(result.stdout)
        converted = run_validator("--json", path)
        assert converted.returncode == 0, converted.stderr
        out[overlay] = json.loads(converted.stdout)
    return out


def of_kind(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}
