"""The service installs with the [service] extra alone: it must not import batch-only libraries."""

from __future__ import annotations

import subprocess
import sys

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pyarrow", "dask", "distributed", "tqdm", "matplotlib"}:
            raise ImportError(f"{name} is not in the [service] extra")
        return None
sys.meta_path.insert(0, Block())
import misinfo_risk.service.app, misinfo_risk.service.__main__
from misinfo_risk.service.app import create_app
print("ok")
"""


def test_service_imports_without_batch_or_train_extras() -> None:
    out = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
