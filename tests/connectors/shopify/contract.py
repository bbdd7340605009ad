"""Contract checks against the official Admin GraphQL 2025-01 introspection (read in place from the specs folder).

- documents: `graphql.validate` against the official schema and against the sandbox's subset schema;
- responses: every sandbox answer is walked along the document's selection with the official types (non-null,
  lists, enum values, scalar kinds, no missing or extra keys);
- the subset schema: every type / field / argument / enum value / input field exists in the official schema with the
  same type, and no required official input field is missing from the subset.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_client_schema,
    parse,
    validate,
    validate_schema,
)

from tests.conftest import specs_dir

SPEC_NAME = "shopify/admin_schema_2025-01.json.gz"


def spec_path() -> Path | None:
    d = specs_dir()
    if d is None or not (d / SPEC_NAME).is_file():
        return None
    return d / SPEC_NAME


@functools.lru_cache(maxsize=1)
def official_schema() -> GraphQLSchema:
    path = spec_path()
    assert path is not None
    with gzip.open(path) as fh:
        schema = build_client_schema(json.load(fh)["data"])
    # Shopify's introspection deprecates some implementation fields whose interface field is not deprecated, which
    # graphql-core >= 3.3 reports as a schema error (and then refuses to validate documents). That rule says nothing
    # about whether a document is valid, so only those errors are waived; any other schema error still fails.
    errors = validate_schema(schema)
    others = [e.message for e in errors if "must not be deprecated" not in e.message]
    assert not others, others[:5]
    schema._validation_errors = []
    return schema


def validation_errors(schema: GraphQLSchema, document: str) -> list[str]:
    return [e.message for e in validate(schema, parse(document))]


# ---- responses -------------------------------------------------------------------------------------------------
_SCALAR_KINDS: dict[str, tuple[type, ...]] = {
    "Int": (int,),
    "Float": (int, float),
    "String": (str,),
    "Boolean": (bool,),
    "ID": (str,),
}


def response_errors(schema: GraphQLSchema, document: str, data: dict[str, Any] | None) -> list[str]:
    """Check a response's `data` against the document's selection using the official schema's types."""
    doc = parse(document)
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.mutation_type if op.operation == OperationType.MUTATION else schema.query_type
    problems: list[str] = []
    if data is None:
        return problems
    _check_selection(schema, root, op.selection_set, data, "data", fragments, problems)  # type: ignore[arg-type]
    return problems


def _collect(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> list[FieldNode]:
    out: list[FieldNode] = []
    for sel in selection.selections:
        if isinstance(sel, FieldNode):
            out.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else parent.name
            if cond == parent.name or cond in {i.name for i in parent.interfaces}:
                out += _collect(schema, parent, sel.selection_set, fragments)
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments[sel.name.value]
            cond = frag.type_condition.name.value
            if cond == parent.name or cond in {i.name for i in parent.interfaces}:
                out += _collect(schema, parent, frag.selection_set, fragments)
    return out


def _check_selection(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection: SelectionSetNode,
    value: Any,
    path: str,
    fragments: dict[str, FragmentDefinitionNode],
    problems: list[str],
) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    fields = _collect(schema, parent, selection, fragments)
    expected_keys = {(f.alias or f.name).value for f in fields}
    extra = set(value) - expected_keys
    if extra:
        problems.append(f"{path}: keys not selected {sorted(extra)}")
    for f in fields:
        key = (f.alias or f.name).value
        if f.name.value == "__typename":
            if value.get(key) != parent.name:
                problems.append(f"{path}.{key}: {value.get(key)!r} != {parent.name}")
            continue
        fdef = parent.fields.get(f.name.value)
        if fdef is None:
            problems.append(f"{path}.{key}: no field {f.name.value} on {parent.name}")
            continue
        if key not in value:
            problems.append(f"{path}.{key}: missing")
            continue
        _check_value(schema, fdef.type, f.selection_set, value[key], f"{path}.{key}", fragments, problems)


def _check_value(
    schema: GraphQLSchema,
    t: Any,
    selection: SelectionSetNode | None,
    value: Any,
    path: str,
    fragments: dict[str, FragmentDefinitionNode],
    problems: list[str],
) -> None:
    if isinstance(t, GraphQLNonNull):
        if value is None:
            problems.append(f"{path}: null for non-null {t}")
            return
        t = t.of_type
    if value is None:
        return
    if isinstance(t, GraphQLList):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            _check_value(schema, t.of_type, selection, item, f"{path}[{i}]", fragments, problems)
        return
    if isinstance(t, GraphQLEnumType):
        if value not in t.values:
            problems.append(f"{path}: {value!r} not a {t.name} value")
        return
    if isinstance(t, GraphQLScalarType):
        kinds = _SCALAR_KINDS.get(
            t.name, (str,)
        )  # custom scalars (Money, Decimal, DateTime, ...) are strings
        if not isinstance(value, kinds) or (t.name == "Int" and isinstance(value, bool)):
            problems.append(f"{path}: {value!r} is not a {t.name}")
        return
    if isinstance(t, (GraphQLInterfaceType, GraphQLUnionType)):
        if not isinstance(value, dict) or "__typename" not in value:
            problems.append(f"{path}: abstract {t.name} answered without __typename")
            return
        concrete = schema.get_type(value["__typename"])
        if not isinstance(concrete, GraphQLObjectType) or not schema.is_sub_type(t, concrete):
            problems.append(f"{path}: {value['__typename']} is not a {t.name}")
            return
        t = concrete
    assert selection is not None
    _check_selection(schema, t, selection, value, path, fragments, problems)


# ---- the subset schema -------------------------------------------------------------------------------------------
def subset_incompatibilities(subset: GraphQLSchema, official: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for name, t in subset.type_map.items():
        if name.startswith("__"):
            continue
        o = official.get_type(name)
        if o is None:
            problems.append(f"type {name} does not exist in the official schema")
            continue
        if type(o) is not type(t):
            problems.append(f"type {name}: {type(t).__name__} here, {type(o).__name__} officially")
            continue
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            assert isinstance(o, (GraphQLObjectType, GraphQLInterfaceType))
            for i in t.interfaces:
                if i.name not in {x.name for x in o.interfaces}:
                    problems.append(f"{name} implements {i.name}, officially it does not")
            for fname, f in t.fields.items():
                of = o.fields.get(fname)
                if of is None:
                    problems.append(f"{name}.{fname} does not exist officially")
                    continue
                if str(f.type) != str(of.type):
                    problems.append(f"{name}.{fname}: {f.type} here, {of.type} officially")
                for aname, a in f.args.items():
                    oa = of.args.get(aname)
                    if oa is None:
                        problems.append(f"{name}.{fname}({aname}) does not exist officially")
                    elif str(a.type) != str(oa.type):
                        problems.append(f"{name}.{fname}({aname}): {a.type} here, {oa.type} officially")
                for aname, oa in of.args.items():
                    if (
                        isinstance(oa.type, GraphQLNonNull)
                        and oa.default_value is None
                        and aname not in f.args
                    ):
                        problems.append(f"{name}.{fname}: required argument {aname} missing here")
        elif isinstance(t, GraphQLInputObjectType):
            assert isinstance(o, GraphQLInputObjectType)
            for fname, f in t.fields.items():
                of = o.fields.get(fname)
                if of is None:
                    problems.append(f"input {name}.{fname} does not exist officially")
                elif str(f.type) != str(of.type):
                    problems.append(f"input {name}.{fname}: {f.type} here, {of.type} officially")
            for fname, of in o.fields.items():
                if isinstance(of.type, GraphQLNonNull) and fname not in t.fields:
                    problems.append(f"input {name}: required field {fname} missing here")
        elif isinstance(t, GraphQLEnumType):
            assert isinstance(o, GraphQLEnumType)
            missing = set(t.values) - set(o.values)
            if missing:
                problems.append(f"enum {name}: values {sorted(missing)} do not exist officially")
    for root_name in ("query_type", "mutation_type"):
        st, ot = getattr(subset, root_name), getattr(official, root_name)
        if (st and st.name) != (ot and ot.name):
            problems.append(f"{root_name}: {st and st.name} here, {ot and ot.name} officially")
    return problems


def operation_names(document: DocumentNode) -> list[str]:
    return [d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name]
