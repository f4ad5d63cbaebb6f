"""Counter program: config decides which resources exist, their inputs and their options."""

# mypy names this file engine.programs.counter.__main__ (tests/engine is a package), so it cannot
# see the sibling module that Python imports at run time from the program directory.
# mypy: disable-error-code="import-not-found"

import time

import pulumi
from counter_provider import Counter

config = pulumi.Config()
explode = config.get("explode_in") or ""


def names(key: str) -> list[str] | None:
    """A comma-separated config value as a list of property names (None when unset)."""
    value = config.get(key)
    return None if value is None else [n for n in value.split(",") if n]


a = Counter(
    "a",
    {
        "label": config.get("label") or "one",
        "slot": config.get("slot") or "1",
        "count": config.get_int("count") or 1,
        "token": config.require_secret("token"),
        "explode": config.get("explode") if explode == "a" else None,
        "tags": config.get_object("tags"),
    },
    pulumi.ResourceOptions(
        delete_before_replace=config.get_bool("dbr"),
        protect=config.get_bool("protect"),
        retain_on_delete=config.get_bool("retain"),
        replace_on_changes=names("replace_on"),
        ignore_changes=names("ignore"),
        additional_secret_outputs=names("secret_outputs"),
        aliases=[pulumi.Alias(name=n) for n in names("aliases") or []],
    ),
)
pulumi.export("a_serial", a.serial)
pulumi.export("a_password", a.password)
pulumi.export("label", config.get("label") or "one")

if config.get_bool("with_b") is not False:
    group = pulumi.ComponentResource(
        "counter:index:Group",
        "g",
        opts=pulumi.ResourceOptions(protect=config.get_bool("protect_g")),
    )
    if config.get_bool("nondet"):  # outputs that differ on every run, as a timestamp would
        group.register_outputs({"stamp": str(time.time_ns())})
    b = Counter(
        "b",
        {
            "source": a.serial.apply(lambda s: f"from-a-{s}"),
            "explode": config.get("explode") if explode == "b" else None,
            # a slot taken from a: a new a replaces b too
            "slot": a.serial.apply(lambda s: f"a{s}") if config.get_bool("b_slot_from_a") else None,
        },
        pulumi.ResourceOptions(parent=group, protect=config.get_bool("protect_b")),
    )
    pulumi.export("b_id", b.id)

if config.get_bool("with_c"):
    c = Counter(
        "c",
        {"label": config.get("c_label") or "c"},
        pulumi.ResourceOptions(additional_secret_outputs=names("c_secret_outputs")),
    )
    if config.get_bool("late"):  # registered only once c's registration has answered
        c.id.apply(lambda _: Counter("late", {"label": "late"}))

if config.get_bool("with_d"):  # a custom resource's child
    Counter("d", {"label": "d"}, pulumi.ResourceOptions(parent=a))

if config.get_bool("duplicate_a"):
    Counter("a", {"label": "again"})

if config.get("log_error"):
    pulumi.log.error(config.require("log_error"))

if config.get("raise_error"):
    raise RuntimeError(config.require("raise_error"))

if config.get_bool("nondet") or config.get_bool("nondet_stack"):
    pulumi.export("stamp", str(time.time_ns()))

pulumi.log.info("counter program ran")
