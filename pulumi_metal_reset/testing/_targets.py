"""``deploy.UrnTargets``: the URNs an operation's ``--target`` or ``--replace`` names.

A target containing ``*`` is a glob: ``*`` matches within one URN segment (``[^:]*``), ``**``
across segments (``.*``); any other target is a literal URN. Only literals must exist in the
stack (``checkTargets``), and an empty list constrains nothing (``IsConstrained``). Ported from
pulumi/pulumi ``pkg/resource/deploy/deployment.go`` (``NewUrnTargets``, ``getMatcher``,
``Contains``, ``Literals``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["UrnTargets"]


class UrnTargets:
    """An immutable set of literal URNs and globs; build one with `UrnTargets.of`."""

    __slots__ = ("_globs", "literals")

    def __init__(self, urns: Iterable[str]) -> None:
        named = list(urns)
        self.literals: frozenset[str] = frozenset(u for u in named if "*" not in u)
        self._globs = tuple(_matcher(u) for u in sorted(set(named)) if "*" in u)

    @classmethod
    def of(cls, urns: Iterable[str] | None) -> UrnTargets | None:
        """None (every URN) for None or an empty list, as ``IsConstrained`` reads them."""
        targets = None if urns is None else cls(urns)
        return targets if targets is not None and targets.constrained else None

    @property
    def constrained(self) -> bool:
        return bool(self.literals or self._globs)

    def __contains__(self, urn: object) -> bool:
        return isinstance(urn, str) and (
            urn in self.literals or any(glob.fullmatch(urn) for glob in self._globs)
        )

    def __repr__(self) -> str:
        return f"UrnTargets({sorted(self.literals)!r}, globs={[g.pattern for g in self._globs]!r})"


def _matcher(glob: str) -> re.Pattern[str]:
    """``getMatcher``: quote everything, then ``**`` -> ``.*`` and ``*`` -> ``[^:]*``; matched
    whole (``^...$``)."""
    segments = ["[^:]*".join(re.escape(part) for part in s.split("*")) for s in glob.split("**")]
    return re.compile(".*".join(segments))
