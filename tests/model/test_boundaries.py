"""The dependency arrow: model/ never imports the service, training or web/metrics libraries."""

from __future__ import annotations

import subprocess
import sys


def test_model_imports_no_service_or_training_dependencies() -> None:
    code = (
        "import sys, misinfo_risk, misinfo_risk.model.scorer, misinfo_risk.model.pipeline; print(sorted({'fastapi', 'starlette', 'prometheus_client', "
        "'pydantic_settings', 'uvicorn', 'misinfo_risk.service', 'misinfo_risk.training', 'matplotlib'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
