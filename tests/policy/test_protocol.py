"""The policy harness speaks the Analyzer protocol as the engine does: pinned with a probe pack
that reports what reached it. Each test names the engine fact it pins (sources in
docs/engine-fidelity.md, section "Policy packs")."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.testing._policy import (
    AnalyzerOptions,
    PolicyPackError,
    PolicyPacks,
    ProviderResource,
    StackResource,
    render_policies,
)
from tests.policy.conftest import PROBE, PROJECT, STACK, start, urn
from tests.wire import secret

PROBE_TYPE = "probe:index:Thing"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:probe::default"


def report(packs: PolicyPacks, inputs: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    analysis = packs.analyze(urn("thing", PROBE_TYPE), PROBE_TYPE, inputs, **kwargs)
    [probe] = [v for v in analysis.violations if v.policy_name == "probe"]
    description, body = probe.message.split("\n", 1)
    assert description == "Reports what Analyze received."
    seen: dict[str, Any] = json.loads(body)
    return seen


@pytest.fixture(scope="module")
def probe() -> Iterator[PolicyPacks]:
    with start(pack=PROBE) as packs:
        yield packs


def test_the_pack_runs_in_its_directory_with_the_stack_in_its_environment(
    probe: PolicyPacks,
) -> None:
    """RunPlugin (pulumi-language-python): cwd = pack dir; PULUMI_PROJECT/STACK/DRY_RUN/CONFIG."""
    seen = report(probe, {"x": "1"})
    assert seen["cwd"] == str(PROBE)
    assert (seen["project"], seen["stack"], seen["dry_run"]) == (PROJECT, STACK, True)
    assert seen["greeting_config"] == "hi from config"
    assert seen["organization"] == "organization"


def test_an_update_runs_the_pack_with_dry_run_false() -> None:
    with start(dry_run=False, pack=PROBE) as packs:
        assert report(packs, {"x": "1"})["dry_run"] is False


def test_stack_tags_arrive_through_configure_stack(probe: PolicyPacks) -> None:
    """The host's policy proxy forwards ConfigureStack to the pack once it has started."""
    assert report(probe, {"x": "1"})["tags"] == {"team": "ops"}


def test_remediate_runs_first_and_analyze_sees_its_result_without_internal_keys(
    probe: PolicyPacks,
) -> None:
    """step_generator.go: Remediate gets every key; Analyze the remediated inputs, `__` keys
    skipped (MarshalOptions.SkipInternalKeys), secrets unwrapped by pulumi-policy."""
    inputs = {"__provider": secret("pickled"), "name": "n", "token": secret("plain-to-policies")}
    analysis = probe.analyze(urn("thing", PROBE_TYPE), PROBE_TYPE, inputs)
    assert [r.policy_name for r in analysis.remediations] == ["mark"]
    assert analysis.inputs["remediated"] is True
    seen = report(probe, inputs)
    assert seen["props"] == {
        "name": "n",
        "token": "plain-to-policies",
        "remediated": True,
        "remediate_saw_provider_key": True,
    }


def test_name_options_and_provider_arrive(probe: PolicyPacks) -> None:
    options = AnalyzerOptions(
        protect=True, ignore_changes=["x"], delete_before_replace=True, parent=STACK_URN
    )
    provider = ProviderResource(PROVIDER_URN, "pulumi:providers:probe", {"region": "here"})
    seen = report(probe, {"x": "1"}, options=options, provider=provider)
    assert (seen["name"], seen["type"], seen["urn"]) == (
        "thing",
        PROBE_TYPE,
        urn("thing", PROBE_TYPE),
    )
    assert (seen["protect"], seen["parent"], seen["ignore_changes"]) == (True, STACK_URN, ["x"])
    assert seen["delete_before_replace"] is True
    assert seen["provider"] == PROVIDER_URN
    assert report(probe, {"x": "1"})["delete_before_replace"] is None


def test_policy_config_defaults_come_from_the_schema(probe: PolicyPacks) -> None:
    """analyzer/config.go ReconcilePolicyPackConfig: schema defaults < config, then Configure."""
    assert report(probe, {"x": "1"})["policy_config"] == {"greeting": "hello"}
    with start(pack=PROBE, policy_config={"probe": {"greeting": "configured"}}) as packs:
        assert report(packs, {"x": "1"})["policy_config"] == {"greeting": "configured"}


def test_all_sets_every_enforcement_level() -> None:
    with start(pack=PROBE, policy_config={"all": "mandatory"}) as packs:
        levels = {p.name: p.enforcement_level for p in packs.packs[0].policies}
        analysis = packs.analyze(urn("thing", PROBE_TYPE), PROBE_TYPE, {"x": "1"})
    assert levels == {"probe": "mandatory", "mark": "mandatory", "stack-probe": "mandatory"}
    [violation] = analysis.violations
    assert violation.enforcement_level == "mandatory"
    assert analysis.remediations == ()  # "mark" is mandatory now, so Remediate skips it


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"probe": "loud"}, 'parsing enforcement level for "probe": "loud" is not a valid'),
        ({"probe": 3}, 'parsing "probe": 3 is not a valid value; must be a string or object'),
        ({"probe": {"greeting": 3}}, "validating policy config: probe 9.9.9  probe: greeting: 3"),
    ],
)
def test_invalid_policy_config_stops_the_run(config: dict[str, Any], says: str) -> None:
    with pytest.raises(PolicyPackError, match="^" + says.replace("(", r"\(")):
        start(pack=PROBE, policy_config=config).close()


def test_the_version_in_pulumipolicy_yaml_wins(probe: PolicyPacks) -> None:
    """analyzer_plugin.go: PulumiPolicy.yaml's version replaces the SDK's 0.0.1 everywhere."""
    analysis = probe.analyze(urn("thing", PROBE_TYPE), PROBE_TYPE, {"x": "1"})
    assert probe.packs[0].version == "9.9.9"
    assert {v.policy_pack_version for v in analysis.violations} == {"9.9.9"}


def test_analyze_stack_attributes_violations_to_a_stack_resource_or_the_root_stack(
    probe: PolicyPacks,
) -> None:
    """step_generator.go AnalyzeResources + resolveStackPolicyViolationURN."""
    parent = urn("parent", PROBE_TYPE)
    child = urn("child", PROBE_TYPE)
    violations = probe.analyze_stack(
        [
            StackResource(parent, PROBE_TYPE, {"__internal": "x", "out": secret("s")}),
            StackResource(child, PROBE_TYPE, {"out": 1}, parent=parent, dependencies=[parent]),
        ]
    )
    assert [v.urn for v in violations] == [parent, child, STACK_URN, STACK_URN]
    first, second = (json.loads(v.message.split("\n", 1)[1]) for v in violations[:2])
    assert first == {"props": {"out": "s"}, "parent": None, "dependencies": []}
    assert second == {"props": {"out": 1.0}, "parent": parent, "dependencies": [parent]}


def test_the_rendered_section_sorts_mandatory_first_and_counts_remediations() -> None:
    with start(pack=PROBE, policy_config={"probe": "mandatory"}) as packs:
        analysis = packs.analyze(urn("thing", PROBE_TYPE), PROBE_TYPE, {"x": "1"})
        stack = packs.analyze_stack([StackResource(urn("thing", PROBE_TYPE), PROBE_TYPE, {})])
        text = render_policies(packs.packs, [*stack, *analysis.violations], analysis.remediations)
    lines = text.splitlines()
    assert lines[:4] == [
        "Policies:",
        f"    \u274c probe@v9.9.9 (local: {PROBE})",
        "        - [remediate]  mark  (1 resource)",
        "        - [mandatory]  probe  (probe:index:Thing: thing)",
    ]
    assert "        - [advisory]  stack-probe  (pulumi:pulumi:Stack: reviewed-dev)" in lines
    assert text.endswith("\n\n")


def test_a_directory_without_pulumipolicy_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyPackError, match="failed to load Pulumi policy project located at"):
        PolicyPacks.start([tmp_path], project=PROJECT, stack=STACK, dry_run=True)


def test_a_pack_that_crashes_reports_its_output(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('the pack cannot start')\n")
    with pytest.raises(PolicyPackError) as caught:
        PolicyPacks.start([tmp_path], project=PROJECT, stack=STACK, dry_run=True)
    assert str(caught.value).startswith(f'policy pack "{tmp_path}" failed to start:')
    assert "the pack cannot start" in str(caught.value)


def test_close_stops_the_pack_process() -> None:
    packs = start(pack=PROBE)
    pids = [pack._process.pid for pack in packs._packs]
    packs.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
