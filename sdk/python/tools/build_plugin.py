#!/usr/bin/env python3
"""Build a Python auditor plugin into a component: the reference for `simian plugin build`.

    python3 sdk/python/tools/build_plugin.py PLUGIN_DIR [--out DIR]

This is BUILD-RECIPE.md as code, kept runnable so the recipe stays true; the simian CLI does
the same in Rust. Standard library only (Python 3.11+, for tomllib).

Steps: read plugin.toml; write a `granted` world importing only the host interfaces its
[capabilities] declare; run componentize-py on the plugin's `app` module against the
contract's `auditor` world narrowed to that world; place <wasm> and plugin.toml in DIR.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

TOOLCHAIN = Path.home() / ".cache/simian/toolchains/componentize-py-0.25.1"
CONTRACT_WORLD = "simian:plugin/auditor@0.1.0"
GRANTED_WORLD = "local:granted/granted"
APP_MODULE = "app"

# Always linked by the host, so always imported.
BASE_IMPORTS = ("log", "settings")


def granted_wit(manifest: dict) -> str:
    """A world with the auditor's exports and only the imports plugin.toml declares: the
    component then imports nothing the host would refuse (componentize-py otherwise imports
    every interface of the world, called or not)."""
    caps = manifest.get("capabilities", {})
    imports = list(BASE_IMPORTS)
    if caps.get("accounts") is True:
        imports.append("accounts")
    # items, http and mail are declared by being present (with their scopes).
    imports += [name for name in ("items", "http", "mail") if name in caps]
    lines = [
        "package local:granted;",
        "",
        "world granted {",
        *(f"    import simian:plugin/{name}@0.1.0;" for name in imports),
        "    use simian:plugin/types@0.1.0.{item, issue, plugin-info};",
        "",
        "    export describe: func() -> plugin-info;",
        "    export audit: func(items: list<item>) -> list<result<list<issue>, string>>;",
        "}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    repo = Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plugin", type=Path, help="the plugin directory (plugin.toml, app.py)")
    parser.add_argument("--out", type=Path, help="default: PLUGIN/dist")
    parser.add_argument("--sdk", type=Path, help="the directory holding simian_sdk/")
    parser.add_argument("--wit", type=Path, help="the contract's WIT directory")
    parser.add_argument("--toolchain", type=Path, default=TOOLCHAIN)
    args = parser.parse_args()

    plugin = args.plugin.resolve()
    # A generated plugin carries its SDK and WIT in .simian/; one in this repository uses
    # the repository's.
    local = plugin / ".simian"
    sdk = args.sdk or (local / "python" if (local / "python").is_dir() else repo / "sdk/python")
    wit = args.wit or (local / "wit" if (local / "wit").is_dir() else repo / "wit/since_v0.1.0")
    out = (args.out or plugin / "dist").resolve()
    componentize = args.toolchain / "bin/componentize-py"

    manifest = tomllib.loads((plugin / "plugin.toml").read_text())
    if manifest.get("kind") != "auditor":
        sys.exit(f"{plugin}/plugin.toml: only auditors can be built in Python")
    if not (plugin / f"{APP_MODULE}.py").is_file():
        sys.exit(f"{plugin} has no {APP_MODULE}.py")
    if not (sdk / "simian_sdk/__init__.py").is_file():
        sys.exit(f"{sdk} holds no simian_sdk package")
    if not componentize.exists():
        sys.exit(f"{componentize} is missing: install componentize-py 0.25.1 (BUILD-RECIPE.md)")
    wasm_name = manifest.get("wasm") or f"{manifest['id']}.wasm"

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="simian-py-build-") as tmp:
        granted = Path(tmp, "granted")
        granted.mkdir()
        (granted / "granted.wit").write_text(granted_wit(manifest))
        built = Path(tmp, wasm_name)
        command = [
            str(componentize),
            "-d", str(wit),
            "-d", str(granted),
            "-w", CONTRACT_WORLD,
            "componentize",
            "-i", GRANTED_WORLD,
            "-p", str(plugin),
            "-p", str(sdk),
            APP_MODULE,
            "-o", str(built),
        ]  # fmt: skip
        # An activated virtualenv would be searched for imports too: keep builds the same
        # on every machine.
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        print("+", " ".join(command), flush=True)
        started = time.monotonic()
        done = subprocess.run(command, cwd=plugin, env=env)
        if done.returncode != 0:
            return done.returncode
        seconds = time.monotonic() - started
        # The component first: a host that sees the new manifest then finds the matching code.
        shutil.copyfile(built, out / wasm_name)
    shutil.copyfile(plugin / "plugin.toml", out / "plugin.toml")
    size = (out / wasm_name).stat().st_size
    print(f"built {out / wasm_name} ({size} bytes) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
