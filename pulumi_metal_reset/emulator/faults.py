"""Fault injection: which failure, if any, the next API request meets.

Faults exist to test a client's retries and its handling of ambiguous failures, so they are
deterministic: rate faults draw from a seeded RNG and a script is consumed one item per API
request. Every change of configuration restarts both the script and the RNG sequence, so a test's
faults depend only on what it set, never on what earlier requests used up.

Order per API request: the next script item if any is left, else a rate fault (with probability
`rate`), else the standing modes `drop_after_apply` and `malformed`. Latency applies to every API
request. Control API requests (`/_emulator/...`) never meet a fault.

Outcomes (script items):

- `"ok"`: answer normally, ignoring the standing modes.
- `"429"`, `"500"`, `"502"`, `"503"`: answer that status with an Error body before authentication,
  without applying anything (429 carries `Retry-After: <retry_after>`).
- `"drop"`: apply the change, then close the connection without answering.
- `"not-json"`, `"missing-field"`, `"truncated"`: apply the change, then answer 201 with a
  malformed body. `"truncated"` is cut-off JSON that still contains the real new password, as a
  broken proxy might send: a client that echoes bodies it cannot parse leaks the password.
  A POST, whose 201 has no body, gets a non-JSON body where none belongs, whatever the kind.

`drop` and the malformed outcomes only affect requests that succeed; a 401 or 422 uses up its
script item and is answered normally.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = [
    "FAULT_STATUSES",
    "MALFORMED_KINDS",
    "SCRIPT_OUTCOMES",
    "Decision",
    "FaultConfig",
    "FaultConfigError",
    "Faults",
]

FAULT_STATUSES = (429, 500, 502, 503)
MALFORMED_KINDS = ("not-json", "missing-field", "truncated")
SCRIPT_OUTCOMES = ("ok", *(str(s) for s in FAULT_STATUSES), "drop", *MALFORMED_KINDS)
MAX_LATENCY_MS = 60_000


class FaultConfigError(ValueError):
    """An invalid fault setting; `problems` lists every reason, for the control API's 422."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid fault configuration: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. The default injects nothing."""

    rate: float = 0.0
    status: int = 503
    retry_after: int = 1
    latency_ms: float = 0
    script: tuple[str, ...] = ()
    drop_after_apply: bool = False
    malformed: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        script = self.script
        if isinstance(script, (list, tuple)):
            object.__setattr__(self, "script", tuple(str(item).strip().lower() for item in script))
        problems = _problems(self)
        if problems:
            raise FaultConfigError(problems)

    @classmethod
    def from_json(cls, data: object, base: FaultConfig | None = None) -> FaultConfig:
        """Build from a JSON object; fields it leaves out come from `base` (default: defaults)."""
        if not isinstance(data, dict):
            raise FaultConfigError(["the body must be a JSON object"])
        known = {f.name for f in fields(cls)}
        # GET adds the read-only `script_remaining`: what it returns can be PUT back as it is
        data = {k: v for k, v in data.items() if k != "script_remaining"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise FaultConfigError([f"unknown field {name!r}" for name in unknown])
        return replace(base or cls(), **data)

    def to_json(self) -> dict[str, Any]:
        result = asdict(self)
        result["script"] = list(self.script)
        return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _problems(config: FaultConfig) -> list[str]:
    problems: list[str] = []
    if not _is_number(config.rate) or not 0.0 <= config.rate <= 1.0:
        problems.append("rate must be a number from 0 to 1")
    if config.status not in FAULT_STATUSES or not _is_int(config.status):
        problems.append(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
    if not _is_int(config.retry_after) or config.retry_after < 0:
        problems.append("retry_after must be a whole number of seconds, 0 or more")
    if not _is_number(config.latency_ms) or not 0 <= config.latency_ms <= MAX_LATENCY_MS:
        problems.append(f"latency_ms must be a number from 0 to {MAX_LATENCY_MS}")
    if not isinstance(config.script, tuple):
        problems.append("script must be a list of outcomes")
    else:
        bad = sorted({item for item in config.script if item not in SCRIPT_OUTCOMES})
        if bad:
            problems.append(f"script has unknown outcomes {bad}; use {', '.join(SCRIPT_OUTCOMES)}")
    if not isinstance(config.drop_after_apply, bool):
        problems.append("drop_after_apply must be true or false")
    if config.malformed is not None and config.malformed not in MALFORMED_KINDS:
        problems.append(f"malformed must be null or one of {', '.join(MALFORMED_KINDS)}")
    if not _is_int(config.seed):
        problems.append("seed must be a whole number")
    return problems


@dataclass(frozen=True)
class Decision:
    """The fault one API request meets."""

    outcome: str = "ok"
    latency_s: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    drop: bool = False
    malformed: str | None = None


@dataclass
class _State:
    config: FaultConfig
    script: deque[str] = field(default_factory=deque)
    rng: random.Random = field(default_factory=random.Random)


class Faults:
    """Thread-safe fault controls shared by the Python API, the control API and the CLI flags."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._state = self._fresh(config or FaultConfig())

    @staticmethod
    def _fresh(config: FaultConfig) -> _State:
        return _State(config, deque(config.script), random.Random(config.seed))

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._state.config

    @property
    def script_remaining(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._state.script)

    def set(self, config: FaultConfig | None = None, /, **changes: Any) -> FaultConfig:
        """Replace the whole configuration: `set(FaultConfig(...))` or `set(rate=0.5, ...)`."""
        if config is not None and changes:
            raise TypeError("pass either a FaultConfig or keyword fields, not both")
        if config is not None and not isinstance(config, FaultConfig):
            raise TypeError("set() takes a FaultConfig; use keyword fields for single settings")
        new = config if config is not None else FaultConfig(**changes)
        return self._install(new)

    def update(self, **changes: Any) -> FaultConfig:
        """Change only the given fields; the script and RNG restart all the same."""
        return self.modify(lambda current: replace(current, **changes))

    def modify(self, change: Callable[[FaultConfig], FaultConfig]) -> FaultConfig:
        """Install `change(current)`, reading and writing under one lock hold.

        Two concurrent updates of different fields must both land; reading the config, then
        installing in a second lock hold, would let one overwrite the other. `change` must not
        call back into this object (the lock is not re-entrant); if it raises, nothing changes.
        """
        with self._lock:
            config = change(self._state.config)
            self._state = self._fresh(config)
        return config

    def clear(self) -> FaultConfig:
        return self._install(FaultConfig())

    def _install(self, config: FaultConfig) -> FaultConfig:
        with self._lock:
            self._state = self._fresh(config)
        return config

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            state = self._state
            return {**state.config.to_json(), "script_remaining": list(state.script)}

    def next_decision(self) -> Decision:
        """Consume the next script item or RNG draw; call once per API request."""
        with self._lock:
            state = self._state
            cfg = state.config
            if state.script:
                outcome: str | None = state.script.popleft()
            elif cfg.rate > 0 and state.rng.random() < cfg.rate:
                outcome = str(cfg.status)
            else:
                outcome = None
        return _decide(cfg, outcome)

    def __repr__(self) -> str:
        return f"Faults({self.config!r})"


def _decide(cfg: FaultConfig, outcome: str | None) -> Decision:
    latency_s = cfg.latency_ms / 1000.0
    if outcome is None:
        if cfg.drop_after_apply:
            return Decision("drop", latency_s, drop=True)
        if cfg.malformed is not None:
            return Decision(cfg.malformed, latency_s, malformed=cfg.malformed)
        return Decision("ok", latency_s)
    if outcome.isdigit():
        status = int(outcome)
        retry_after = cfg.retry_after if status == 429 else None
        return Decision(outcome, latency_s, status=status, retry_after=retry_after)
    if outcome == "drop":
        return Decision(outcome, latency_s, drop=True)
    if outcome in MALFORMED_KINDS:
        return Decision(outcome, latency_s, malformed=outcome)
    return Decision("ok", latency_s)
