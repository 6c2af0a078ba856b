"""Loading plugins from the `gentool` entry-point group, each on its own, so one broken plugin harms no other.

A plugin is broken, registers nothing and is reported with the reason when: its module fails to import; it
declares a `gentool-core` requirement that the installed core does not satisfy; a hook implementation has a
name no hookspec has (typo) or argument names its spec lacks; a register hook raises; its entry-point name is
already taken by another distribution; or a component name it registers is already held by another
distribution (then the name is ambiguous and `get` refuses it, naming both).

Environment: `GENTOOL_PLUGINS=a,b` loads only those entry points (empty: only core); `GENTOOL_DISABLE_PLUGINS=a,b`
skips those; `GENTOOL_STRICT_PLUGINS=1` makes any broken plugin fatal for every command.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import os
from dataclasses import dataclass, field
from typing import Any

import pluggy

from gentool import hookspecs
from gentool.errors import GentoolError, did_you_mean
from gentool.registry import Component, Registry

GROUP = "gentool"
CORE_PLUGIN = "core"
CORE_DISTRIBUTION = "gentool-core"


@dataclass
class PluginRecord:
    """One entry point in group `gentool`, as `gentool plugins --json` reports it."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    module: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class PluginState:
    manager: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginRecord]

    @property
    def broken(self) -> list[PluginRecord]:
        return [p for p in self.plugins if p.status != "ok"]


def _names_from_env(var: str) -> set[str] | None:
    raw = os.environ.get(var)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _core_version() -> str:
    from gentool import __version__

    return __version__


def _incompatible_core(dist: md.Distribution | None) -> str | None:
    """The reason a plugin's declared `gentool-core` range excludes the installed core, else None."""
    if dist is None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != CORE_DISTRIBUTION or req.marker is not None and "extra" in str(req.marker):
            continue
        if req.specifier and not req.specifier.contains(_core_version(), prereleases=True):
            return f"requires gentool-core{req.specifier} but gentool-core {_core_version()} is installed"
    return None


def _unknown_hooks(manager: pluggy.PluginManager, module: Any) -> str | None:
    """A message for hook implementations in `module` whose names match no hookspec, else None."""
    bad = []
    for hook_name in dir(module):
        if manager.parse_hookimpl_opts(module, hook_name) is None:
            continue
        caller = getattr(manager.hook, hook_name, None)
        if caller is None or not caller.has_spec():
            known = [n for n in dir(hookspecs) if n.startswith("register_")]
            bad.append(f'"{hook_name}" is not a gentool hook.{did_you_mean(hook_name, known)}')
    return " ".join(bad) or None


def _call_register_hooks(manager: pluggy.PluginManager, record: PluginRecord) -> list[Component]:
    """Run this plugin's register_* hooks; returns what it registered (raises what a hook raised)."""
    found: list[Component] = []
    for hook_name, kind in hookspecs.REGISTER_HOOKS.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin is not record.module:
                continue

            def register(
                name: str, target: Any, *, config: Any = None, summary: str = "", sample_config: Any = None,
                _kind: str = kind,
            ) -> None:
                if sample_config is not None and _kind != "model":
                    raise TypeError(f'{_kind} "{name}": only models take a sample_config')
                found.append(
                    Component(name, _kind, target, config, summary, record.name, record.distribution, record.version,
                              sample_config)
                )

            kwargs = {"register": register}
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                raise RuntimeError(f"hook {hook_name} raised {type(exc).__name__}: {exc}") from exc
    return found


def _load_one(manager: pluggy.PluginManager, registry: Registry, ep: md.EntryPoint, record: PluginRecord) -> None:
    """Import, validate and register one entry point, marking `record` broken on any problem."""
    reason = _incompatible_core(getattr(ep, "dist", None))
    if reason:
        record.status, record.error = "broken", reason
        return
    try:
        record.module = ep.load()
    except Exception as exc:
        record.status, record.error = "broken", f"import of {ep.value} failed: {type(exc).__name__}: {exc}"
        return
    try:
        manager.register(record.module, name=record.name)
    except Exception as exc:  # pluggy.PluginValidationError for argument names the spec lacks
        record.status, record.error = "broken", f"invalid hook implementation: {exc}"
        return
    record.hooks = sorted(c.name for c in manager.get_hookcallers(record.module) or [])
    problem = _unknown_hooks(manager, record.module)
    try:
        components = [] if problem else _call_register_hooks(manager, record)
    except RuntimeError as exc:
        problem = str(exc)
    if problem is None:
        staged = Registry(dict(registry.components))
        clashes = [msg for c in components if (msg := staged.add(c))]
        if clashes:
            for c in components:  # the held names become ambiguous, naming both distributions
                held = registry.components.get((c.kind, c.name))
                if held is not None and held.distribution != c.distribution:
                    registry.add(c)
            problem = "; ".join(clashes)
        else:
            registry.components = staged.components
    if problem:
        record.status, record.error = "broken", problem
        manager.unregister(record.module)


def load_plugins(*, entry_points: list[md.EntryPoint] | None = None) -> PluginState:
    """Discover and load every plugin in group `gentool`, honouring the GENTOOL_* environment variables."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    records: list[PluginRecord] = []
    only = _names_from_env("GENTOOL_PLUGINS")
    disabled = _names_from_env("GENTOOL_DISABLE_PLUGINS") or set()
    owners: dict[str, str] = {}
    eps = entry_points if entry_points is not None else list(md.entry_points(group=GROUP))
    eps.sort(key=lambda ep: ep.name != CORE_PLUGIN)  # core's built-ins first, then discovery order
    for ep in eps:
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else "unknown"
        if ep.name != CORE_PLUGIN and (ep.name in disabled or (only is not None and ep.name not in only)):
            continue
        record = PluginRecord(ep.name, dist_name, dist.version if dist is not None else "")
        records.append(record)
        if ep.name in owners:
            record.status = "broken"
            record.error = (
                f'entry-point name "{ep.name}" in group "gentool" is already used by {owners[ep.name]}; '
                f"{dist_name}'s plugin was not loaded (rename one of them)"
            )
            continue
        owners[ep.name] = dist_name
        _load_one(manager, registry, ep, record)
    return PluginState(manager, registry, records)


@functools.cache
def plugin_state() -> PluginState:
    """The plugins of this process, loaded once."""
    return load_plugins()


def add_plugin_commands(state: PluginState, app: Any) -> None:
    """Let plugins add sub-commands to the typer `app`; a plugin whose hook raises contributes none and is marked
    broken with the reason."""
    for impl in state.manager.hook.register_commands.get_hookimpls():
        record = next((p for p in state.plugins if p.module is impl.plugin), None)
        before = list(app.registered_commands)
        try:
            impl.function(app=app)
        except Exception as exc:
            app.registered_commands[:] = before
            if record is not None:
                record.status, record.error = "broken", f"hook register_commands raised {type(exc).__name__}: {exc}"


def strict_mode() -> bool:
    return os.environ.get("GENTOOL_STRICT_PLUGINS", "").strip().lower() not in ("", "0", "false", "no")


def check_strict(state: PluginState) -> None:
    """Under GENTOOL_STRICT_PLUGINS=1, a GentoolError listing every broken plugin with its reason."""
    if strict_mode() and state.broken:
        rows = "; ".join(f"{p.name} ({p.distribution}): {p.error}" for p in state.broken)
        raise GentoolError(f"GENTOOL_STRICT_PLUGINS is set and {len(state.broken)} plugin(s) are broken: {rows}.")
