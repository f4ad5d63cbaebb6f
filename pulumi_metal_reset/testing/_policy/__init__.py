"""Run Pulumi policy packs the way the engine does, for tests: no Pulumi CLI is needed.

What is mirrored (each fact is cited, with the test that pins it, in
`docs/engine-fidelity.md`, section "Policy packs"):

- Start: the Python language host runs `python -u -m pulumi.policy <engine-address> <pack dir>`
  in the pack directory with `PULUMI_ORGANIZATION`, `PULUMI_PROJECT`, `PULUMI_STACK`,
  `PULUMI_DRY_RUN` and `PULUMI_CONFIG` (JSON, `"ns:key"` to string) set, the CLI's own
  environment after them (a later duplicate wins). The pack prints its port; the host's proxy
  then forwards the engine's ConfigureStack to it.
- The engine reads `PulumiPolicy.yaml` (its `version` wins over the pack's), calls
  GetAnalyzerInfo once, reconciles the policy config (schema defaults < the pack's initial
  config < the config file, `"all"` first) and validates it, then calls Configure.
- Per resource, after Check: Remediate on the checked inputs (every key), then Analyze on the
  (remediated) inputs without top-level `__` keys. A mandatory violation makes the resource
  invalid during `up` (it is never operated on); in preview the run goes on but fails at the end.
- At the end, when no step failed: AnalyzeStack on every resource's outputs; a violation naming
  no resource of the stack is attributed to the root stack resource.

Values stay in wire form: secrets as the signature dict, unknowns as the sentinel string.

The test engine wires this in `testing/_policy_run.py` (`preview(policy_packs=[...])`,
`up(policy_packs=[...])`); used on its own:

    packs = PolicyPacks.start(paths, project=p, stack=s, dry_run=preview, config=decrypted)
    # for each resource, right after Check:
    analysis = packs.analyze(urn, type_, checked_inputs, options=..., provider=...)
    checked_inputs = analysis.inputs            # remediated
    if analysis.invalid(dry_run=preview):       # `up` only: no step for this resource
        stop ("resource <urn> is invalid", a bail the CLI does not print)
    # at the end, unless the run bailed or a step failed:
    stack_violations = packs.analyze_stack([StackResource(urn, type_, outputs, ...), ...])
    text = render_policies(packs.packs, all_violations, all_remediations)
    failed = run_failed(all_violations)         # preview and up: the run fails
    packs.close()
"""

from .packs import PolicyPacks
from .records import (
    AnalyzerOptions,
    PackInfo,
    PolicyInfo,
    PolicyPackError,
    PolicyRemediation,
    PolicyViolation,
    ProviderResource,
    ResourceAnalysis,
    StackResource,
    run_failed,
)
from .render import render_policies

__all__ = [
    "AnalyzerOptions",
    "PackInfo",
    "PolicyInfo",
    "PolicyPackError",
    "PolicyPacks",
    "PolicyRemediation",
    "PolicyViolation",
    "ProviderResource",
    "ResourceAnalysis",
    "StackResource",
    "render_policies",
    "run_failed",
]
