"""The shipped Prometheus config and rules pass promtool, and every alert is unit-tested both ways."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.deploy.processes import require_binary
from tests.deploy.promql import PROMETHEUS_CONFIG, RULE_TESTS_DIR, RULES_DIR, rules_of


def promtool(*args: str | Path) -> str:
    """Run promtool; fail with its output unless it exits 0."""
    result = subprocess.run([require_binary("promtool"), *map(str, args)], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))} failed:\n{output}"
    return output


def test_promtool_check_config() -> None:
    output = promtool("check", "config", PROMETHEUS_CONFIG)
    assert "SUCCESS" in output


def test_promtool_check_rules() -> None:
    files = sorted(RULES_DIR.glob("*.yml"))
    assert [f.name for f in files] == ["misinfo-risk-alerts.yml", "misinfo-risk-recording.yml"]
    output = promtool("check", "rules", *files)
    assert output.count("SUCCESS") == len(files)


def test_promtool_test_rules() -> None:
    files = sorted(RULE_TESTS_DIR.glob("*_test.yml"))
    assert files
    output = promtool("test", "rules", *files)
    assert output.count("SUCCESS") == len(files)
    assert "FAILED" not in output


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """Guards the guard: a syntax error in a rule file makes the check fail."""
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(rate(y[5m])\n")
    result = subprocess.run([require_binary("promtool"), "check", "rules", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


@pytest.mark.parametrize("rule", rules_of("alert"), ids=lambda rule: rule["alert"])
def test_alert_has_severity_and_runbook(rule: dict[str, object]) -> None:
    labels = rule.get("labels")
    annotations = rule.get("annotations")
    assert isinstance(labels, dict) and labels.get("severity") in {"critical", "warning"}
    assert isinstance(annotations, dict) and {"summary", "description", "runbook"} <= set(annotations)
    runbook = annotations["runbook"]
    assert isinstance(runbook, str) and runbook.startswith("1. ") and "\n2. " in runbook


def _alert_cases() -> dict[str, set[str]]:
    """For each alert name, which kinds of unit-test cases exist: "firing" and/or "silent"."""
    cases: dict[str, set[str]] = defaultdict(set)
    for path in RULE_TESTS_DIR.glob("*_test.yml"):
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in test.get("alert_rule_test", []):
                cases[case["alertname"]].add("firing" if case.get("exp_alerts") else "silent")
    return cases


@pytest.mark.parametrize("alert", [rule["alert"] for rule in rules_of("alert")])
def test_every_alert_is_unit_tested_firing_and_not_firing(alert: str) -> None:
    assert _alert_cases()[alert] == {"firing", "silent"}


def test_unit_tests_name_only_existing_alerts() -> None:
    assert set(_alert_cases()) == {rule["alert"] for rule in rules_of("alert")}
