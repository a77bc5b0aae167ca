"""Puts this repository's Python SDK on sys.path, so plain `pytest` here tests the plugin
against the SDK it ships with (a generated plugin uses its `.simian/python` copy instead)."""

import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk" / "python"
if not (SDK / "simian_sdk").is_dir():
    raise RuntimeError(f"simian_sdk not found in {SDK}")
sys.path.insert(0, str(SDK))
