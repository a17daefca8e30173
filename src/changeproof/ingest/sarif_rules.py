"""The rules of one SARIF run and what a result takes from them: its rule descriptor (SARIF
§3.52.3: by index in its tool component, else by hierarchical id), its *effective* level
(§3.27.10: the result's own, else from its kind, an invocation's override, the rule's default
configuration, or warning) and its message strings (§3.11.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from changeproof.ingest.sarif_json import Obj, Path, SarifDoc

__all__ = ["Rule", "RuleTable"]

_MAX_RULE_DEPTH: Final = 8  # hierarchical ruleId components tried, longest first


@dataclass(frozen=True, slots=True)
class Rule:
    component: int  # -1 for the driver, else the extension's index
    index: int
    id: str | None
    body: Obj
    path: Path


class RuleTable:
    """The rule descriptors of one run's tool components: the driver, then each extension."""

    def __init__(self, doc: SarifDoc, run: Obj, path: Path, tool: Obj, driver: Obj) -> None:
        self.doc = doc
        self.run = run
        self.path = path
        self.components: list[tuple[Obj, Path]] = [(driver, (*path, "tool", "driver"))]
        for i, extension in enumerate(doc.opt_list(tool, "extensions", (*path, "tool"))):
            ext_path: Path = (*path, "tool", "extensions", i)
            self.components.append((doc.obj(extension, ext_path), ext_path))
        self.rules: list[list[Rule]] = []  # per component: the driver, then each extension
        self.ids: list[dict[str, Rule]] = []  # the same, by rule id (first one wins)
        self.rules_by_id: dict[str, Rule] = {}  # every component's, the driver's first
        for component, (body, comp_path) in enumerate(self.components, start=-1):
            table: list[Rule] = []
            ids: dict[str, Rule] = {}
            for i, rule in enumerate(doc.opt_list(body, "rules", comp_path)):
                rule_path: Path = (*comp_path, "rules", i)
                rule_body = doc.obj(rule, rule_path)
                rule_id = doc.opt_str(rule_body, "id", rule_path)
                entry = Rule(component, i, rule_id, rule_body, rule_path)
                table.append(entry)
                if rule_id is not None:
                    ids.setdefault(rule_id, entry)
                    self.rules_by_id.setdefault(rule_id, entry)
            self.rules.append(table)
            self.ids.append(ids)

    def level(
        self, result: Obj, stated: str | None, kind: object, rule: Rule | None, path: Path
    ) -> str:
        """The result's effective level: its own `level`; else `none` for a result whose kind
        is not `fail`; else what the rule is configured with."""
        if stated is not None:
            return stated
        if kind not in (None, "fail"):
            return "none"
        return self._configured_level(result, rule, path)

    def find(
        self,
        reference: Obj | None,
        rule_id: str | None,
        located_index: tuple[int | None, Path],
        path: Path,
    ) -> Rule | None:
        """The rule's descriptor (SARIF §3.52.3): by index in its component, else by id."""
        doc = self.doc
        index, index_path = located_index
        component: int | None = None
        if reference is not None:
            component_ref = doc.opt_obj(reference, "toolComponent", (*path, "rule"))
            if component_ref is not None:
                component = self._component(component_ref, (*path, "rule", "toolComponent"))
        if index is not None and index >= 0:
            table = self.rules[(component if component is not None else -1) + 1]
            if index >= len(table):
                where = "tool.driver" if component in (None, -1) else f"extension {component}"
                raise doc.fail(
                    index_path, f"rule index {index}, but {where} lists {len(table)} rules"
                )
            return table[index]
        if rule_id is None:
            return None
        by_id = self.ids[component + 1] if component is not None else self.rules_by_id
        # A ruleId is hierarchical ("CA5350/md5"): its leading components name the rule.
        wanted = rule_id
        for _ in range(_MAX_RULE_DEPTH):
            found = by_id.get(wanted)
            if found is not None or "/" not in wanted:
                return found
            wanted = wanted.rpartition("/")[0]
        return None

    def _component(self, reference: Obj, path: Path) -> int | None:
        """A toolComponentReference: an extension's index, or -1 for the driver."""
        doc = self.doc
        index = doc.opt_int(reference, "index", path, least=-1)
        if index is not None and index >= 0:
            if index >= len(self.components) - 1:
                raise doc.fail(
                    (*path, "index"),
                    f"extension index {index}, but the tool has {len(self.components) - 1}",
                )
            return index
        name = doc.opt_str(reference, "name", path)
        guid = doc.opt_str(reference, "guid", path)
        for position, (body, _) in enumerate(self.components, start=-1):
            if (name is not None and body.get("name") == name) or (
                guid is not None and body.get("guid") == guid
            ):
                return position
        return None

    def _configured_level(self, result: Obj, rule: Rule | None, path: Path) -> str:
        """An invocation's override for the rule, else its default configuration, else warning."""
        if rule is None:
            return "warning"
        doc = self.doc
        override = self._override(result, rule, path)
        if override is not None:
            return override
        default = doc.opt_obj(rule.body, "defaultConfiguration", rule.path)
        if default is not None:
            level = doc.opt_level(default, "level", (*rule.path, "defaultConfiguration"))
            if level is not None:
                return level
        return "warning"

    def _override(self, result: Obj, rule: Rule, path: Path) -> str | None:
        """The level a `ruleConfigurationOverrides` entry of the result's invocation sets."""
        doc = self.doc
        provenance = doc.opt_obj(result, "provenance", path)
        if provenance is None:
            return None
        invocation_index = provenance.get("invocationIndex")
        invocations = self.run.get("invocations")
        if (
            isinstance(invocation_index, bool)
            or not isinstance(invocation_index, int)
            or not isinstance(invocations, list)
            or not 0 <= invocation_index < len(invocations)
        ):
            return None
        inv_path: Path = (*self.path, "invocations", invocation_index)
        invocation = doc.obj(invocations[invocation_index], inv_path)
        for k, item in enumerate(doc.opt_list(invocation, "ruleConfigurationOverrides", inv_path)):
            item_path: Path = (*inv_path, "ruleConfigurationOverrides", k)
            override = doc.obj(item, item_path)
            descriptor = doc.opt_obj(override, "descriptor", item_path)
            configuration = doc.opt_obj(override, "configuration", item_path)
            if descriptor is None or configuration is None:
                continue
            component = rule.component
            component_ref = doc.opt_obj(descriptor, "toolComponent", (*item_path, "descriptor"))
            if component_ref is not None:
                target = self._component(component_ref, (*item_path, "descriptor", "toolComponent"))
                if target != component:
                    continue
            elif component != -1:
                continue
            index = descriptor.get("index")
            if isinstance(index, bool) or not isinstance(index, int | None):
                continue
            if index == rule.index or (
                rule.id is not None and index is None and descriptor.get("id") == rule.id
            ):
                return doc.opt_level(configuration, "level", (*item_path, "configuration"))
        return None

    def message_string(self, message_id: str, rule: Rule | None) -> str | None:
        """SARIF §3.11.7: the rule's messageStrings, then its component's globalMessageStrings."""
        doc = self.doc
        places: list[tuple[Obj, str, Path]] = []
        if rule is not None:
            places.append((rule.body, "messageStrings", rule.path))
            body, comp_path = self.components[rule.component + 1]
            places.append((body, "globalMessageStrings", comp_path))
        else:
            driver, driver_path = self.components[0]
            places.append((driver, "globalMessageStrings", driver_path))
        for body, key, place_path in places:
            strings = doc.opt_obj(body, key, place_path)
            if strings is None or message_id not in strings:
                continue
            entry = doc.obj(strings[message_id], (*place_path, key, message_id))
            text = doc.opt_str(entry, "text", (*place_path, key, message_id))
            if text is not None:
                return text
        return None
