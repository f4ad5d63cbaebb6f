"""A tiny dynamic provider for testing the test engine (not our product's provider).

It lives beside the program so the class pickles by reference, as a real project's would. Every
call it receives is appended as one JSON line to the file named by the ``counter:log`` config
(read in ``configure``), so tests can see which calls the engine really made and with what.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

_LOCK = threading.Lock()
_COMPARED = ("label", "slot", "count", "token", "source", "explode")


def _plain(value: object) -> str:
    """Unknowns (preview) arrive in check and diff as ``pulumi.output.Unknown``."""
    return "<unknown>" if isinstance(value, Unknown) else repr(value)


class CounterProvider(ResourceProvider):
    """Creates numbered counters; ``slot`` forces replacement; ``explode`` names a failing call.

    Config ``diff_unknown=true`` makes ``diff`` answer DIFF_UNKNOWN (the SDK default);
    ``provider_dbr=true`` makes it ask for delete-before-replace; ``drift=<label>`` makes ``read``
    report that label (``drift=gone`` reports the resource missing); ``stamp=true`` makes
    ``check`` add the current time, as a Check that reads the clock does; ``read_fails=<name>``
    makes ``read`` of that resource raise, and ``read_gone=<name>`` report it missing.
    """

    log_path: Path | None = None
    diff_unknown = False
    provider_dbr = False
    drift: str | None = None
    stamp = False
    read_fails: str | None = None
    read_gone: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        self.log_path = Path(req.config.require("log"))
        self.diff_unknown = req.config.get("diff_unknown") == "true"
        self.provider_dbr = req.config.get("provider_dbr") == "true"
        self.drift = req.config.get("drift")
        self.stamp = req.config.get("stamp") == "true"
        self.read_fails = req.config.get("read_fails")
        self.read_gone = req.config.get("read_gone")

    def _log(self, call: str, **fields: Any) -> None:
        assert self.log_path is not None
        with _LOCK, self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"call": call, **fields}, sort_keys=True, default=_plain) + "\n")

    def _creates(self) -> int:
        assert self.log_path is not None
        if not self.log_path.exists():
            return 0
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return sum(1 for line in lines if json.loads(line)["call"] == "create")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        self._log("check", name=news.get("rname"), olds=olds, news=news)
        failures = []
        count = news.get("count")
        if isinstance(count, float) and (count < 1 or not count.is_integer()):
            failures.append(CheckFailure("count", "must be a positive whole number"))
        if news.get("token") == "letmein-0":
            failures.append(CheckFailure("token", "is a well-known default"))
        if self.stamp:  # a Check that reads the clock: never the same twice
            news = {**news, "stamp": time.time_ns()}
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        self._log("diff", name=news.get("rname"), id=id_, olds=olds, news=news)
        if self.diff_unknown:
            return DiffResult()  # changes=None: DIFF_UNKNOWN, the engine compares inputs itself
        changed = [k for k in _COMPARED if olds.get(k) != news.get(k)]
        replaces = ["slot"] if "slot" in changed else []
        return DiffResult(
            changes=bool(changed), replaces=replaces, delete_before_replace=self.provider_dbr
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("explode") == "create":
            raise RuntimeError("the counter service refused the request") from None
        if props.get("explode") == "hang":
            time.sleep(600)  # a call that never answers: the engine's timeout must end the run
        with _LOCK:
            serial = self._creates() + 1
            id_ = f"{props['rname']}-{serial}"
        self._log("create", name=props["rname"], id=id_, now=time.time(), props=props)
        return CreateResult(id_, {**props, "serial": serial, "password": f"pw-{serial}"})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news.get("explode") == "update":
            raise RuntimeError("the counter service refused the update") from None
        self._log("update", name=news["rname"], id=id_, olds=olds, news=news)
        return UpdateResult({**news, "serial": olds["serial"], "password": olds["password"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        self._log("read", name=props.get("rname"), id=id_, props=props)
        if self.read_fails is not None and props.get("rname") == self.read_fails:
            raise RuntimeError("the counter service could not read the counter") from None
        if self.drift == "gone" or props.get("rname") == self.read_gone:
            return ReadResult(None, {})
        if self.drift is not None and props.get("rname") == "a":
            return ReadResult(id_, {**props, "label": self.drift})
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._log("delete", name=props.get("rname"), id=id_, props=props)


class Counter(pulumi.dynamic.Resource, module="counter", name="Counter"):
    """A counter; ``password`` is a secret output, ``serial`` exists only after create."""

    serial: pulumi.Output[float]
    password: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(
            CounterProvider(),
            name,
            {"rname": name, "serial": None, "password": None, **props},
            opts,
        )
