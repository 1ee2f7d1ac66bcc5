"""Generate Python code for the contract in protos/ into services/api.

protoc writes absolute imports named after the proto packages (`from calendar.events.v3 import
events_pb2`). A top-level `calendar` package would shadow the standard library's `calendar`, so
the generated modules live under `services.api` and their imports are rewritten to match.

    python -m services.devstack.protogen --out services/api          # regenerate
    python -m services.devstack.protogen --out services/api --check  # fail when stale
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

REPO = Path(__file__).resolve().parents[2]
PROTOS = REPO / "protos"
PACKAGE = "services.api"
_ROOTS = ("bookings", "calendar", "catalog", "common")
_IMPORT = re.compile(rf"^(from|import) ({'|'.join(_ROOTS)})(\.[\w.]+)?( import )?", re.MULTILINE)


def _rewrite(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return f"{m.group(1)} {PACKAGE}.{m.group(2)}{m.group(3) or ''}{m.group(4) or ''}"

    return _IMPORT.sub(repl, text)


def generate(out: Path) -> None:
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in out.rglob("*.py*"):
        path.write_text(_rewrite(path.read_text()))
    for directory in [out, *(d for d in out.rglob("*") if d.is_dir())]:
        (directory / "__init__.py").touch()
    (out / "__init__.py").write_text('"""Generated from protos/ by `make protos`. Do not edit."""\n')


def _differences(a: Path, b: Path) -> list[str]:
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    diffs = [str(n) for n in names_a ^ names_b]
    diffs += [str(n) for n in names_a & names_b if not filecmp.cmp(a / n, b / n, shallow=False)]
    return sorted(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "services" / "api")
    parser.add_argument("--check", action="store_true", help="fail when the committed code is stale")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "api"
        fresh.mkdir()
        generate(fresh)
        if opts.check:
            stale = _differences(fresh, opts.out)
            if stale:
                print(f"Generated code in {opts.out} is stale; run `make protos`:", *stale, sep="\n  ", file=sys.stderr)
                raise SystemExit(1)
            print("generated code is up to date")
            return
        shutil.rmtree(opts.out, ignore_errors=True)
        shutil.copytree(fresh, opts.out)
        print(f"generated {sum(1 for _ in opts.out.rglob('*_pb2.py'))} modules into {opts.out}")


if __name__ == "__main__":
    main()
