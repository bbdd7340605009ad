"""Shopify's calculated query cost and the per-app leaky bucket (standard plan: 1,000 points, 100 restored per second).

Cost model (shopify.dev "API rate limits", GraphQL Admin): scalars and enums 0, objects 1, connections 2 plus the
number of requested nodes (`first` / `last`) times the cost of one node, mutations 10. The requested cost is computed
from the document before execution and must fit in the bucket (else THROTTLED, nothing executed); a single query may
not exceed 1,000 (MAX_COST_EXCEEDED). The actual cost counts the nodes really returned and is what the bucket is
charged, so a short last page is cheap.
"""

from __future__ import annotations

import time
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)

MUTATION_COST = 10
MAX_QUERY_COST = 1000
BUCKET_SIZE = 1000.0
RESTORE_RATE = 100.0


class QueryCost:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = dict(variables)
        for vd in operation.variable_definitions or ():
            name = vd.variable.name.value
            if name not in self.variables and isinstance(vd.default_value, IntValueNode):
                self.variables[name] = int(vd.default_value.value)

    def requested(self) -> int:
        return self._cost(None)

    def actual(self, data: dict[str, Any] | None) -> int:
        """What the bucket is charged: nothing when nothing executed, returned nodes only for connections."""
        return 0 if data is None else self._cost(data)

    def _cost(self, data: dict[str, Any] | None) -> int:
        op = self.operation
        if op.operation == OperationType.MUTATION:
            # payload selections are included in the flat mutation cost, as Shopify reports it
            return MUTATION_COST * len(self._fields(self.schema.mutation_type, op.selection_set))  # type: ignore[arg-type]
        return self._selection(self.schema.query_type, op.selection_set, data)  # type: ignore[arg-type]

    def _fields(self, parent: Any, selection: SelectionSetNode) -> list[tuple[FieldNode, Any]]:
        out: list[tuple[FieldNode, Any]] = []
        for sel in selection.selections:
            if isinstance(sel, FieldNode):
                out.append((sel, parent))
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                out += self._fields(cond, sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments[sel.name.value]
                out += self._fields(self.schema.get_type(frag.type_condition.name.value), frag.selection_set)
        return out

    def _arg(self, node: FieldNode, name: str) -> Any:
        for a in node.arguments or ():
            if a.name.value == name:
                v = a.value
                if isinstance(v, VariableNode):
                    return self.variables.get(v.name.value)
                if isinstance(v, IntValueNode):
                    return int(v.value)
                if isinstance(v, ListValueNode):
                    return list(v.values)
        return None

    def _selection(self, parent: Any, selection: SelectionSetNode, data: dict[str, Any] | None) -> int:
        total = 0
        for node, owner in self._fields(parent, selection):
            if node.name.value.startswith("__"):
                continue
            fdef = owner.fields.get(node.name.value) if hasattr(owner, "fields") else None
            if fdef is None:
                continue
            named = get_named_type(fdef.type)
            if is_leaf_type(named):
                continue
            key = (node.alias or node.name).value
            value = None if data is None else data.get(key)
            if data is not None and key in data and value is None:
                continue  # nothing returned, nothing charged
            total += self._field(node, fdef.type, named, value, data is not None)
        return total

    def _field(self, node: FieldNode, ftype: Any, named: Any, value: Any, actual: bool) -> int:
        sel = node.selection_set
        assert sel is not None
        if named.name.endswith("Connection"):
            requested = self._arg(node, "first") or self._arg(node, "last") or 0
            node_type = self.schema.get_type(named.name[: -len("Connection")])
            inner = 0
            if actual and isinstance(value, dict):
                items = value.get("nodes") or [e.get("node") for e in value.get("edges") or [] if e]
                inner = sum(self._node_cost(node_type, sel, item) for item in items)
                return 2 + inner
            return 2 + int(requested) * self._node_cost(node_type, sel, None)
        base = ftype.of_type if isinstance(ftype, GraphQLNonNull) else ftype
        if isinstance(base, GraphQLList):
            size = 1
            ids = self._arg(node, "ids")
            if isinstance(ids, list):
                size = len(ids)
            if actual and isinstance(value, list):
                return sum(self._object_cost(named, sel, v) for v in value if v is not None)
            return size * self._object_cost(named, sel, None)
        return self._object_cost(named, sel, value if actual else None)

    def _object_cost(self, named: Any, sel: SelectionSetNode, value: Any) -> int:
        if is_abstract_type(named):
            # charge the most expensive possible type
            types = self.schema.get_possible_types(named)
            return 1 + max((self._selection(t, sel, value) for t in types), default=0)
        return 1 + self._selection(named, sel, value)

    def _node_cost(self, node_type: Any, conn_sel: SelectionSetNode, item: Any) -> int:
        """Cost of one node of a connection: the `nodes { }` or `edges { node { } }` selection."""
        best = 0
        for f, _ in self._fields(None, conn_sel):
            if f.name.value == "nodes" and f.selection_set:
                best = max(best, 1 + self._selection(node_type, f.selection_set, item))
            elif f.name.value == "edges" and f.selection_set:
                for g, _ in self._fields(None, f.selection_set):
                    if g.name.value == "node" and g.selection_set:
                        best = max(best, 1 + self._selection(node_type, g.selection_set, item))
        return best or 1


class LeakyBucket:
    """Shopify's per-app, per-store budget. Charged with the actual cost after execution."""

    def __init__(self, size: float = BUCKET_SIZE, restore_rate: float = RESTORE_RATE) -> None:
        self.size = size
        self.restore_rate = restore_rate
        self._available = size
        self._updated = time.monotonic()

    def available(self) -> float:
        now = time.monotonic()
        self._available = min(self.size, self._available + (now - self._updated) * self.restore_rate)
        self._updated = now
        return self._available

    def charge(self, points: float) -> None:
        self._available = self.available() - points

    def drain(self, to: float = 0.0) -> None:
        self.available()
        self._available = to

    def status(self, enforced: bool) -> dict[str, float]:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": round(self.available() if enforced else self.size, 1),
            "restoreRate": self.restore_rate,
        }
