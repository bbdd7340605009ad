"""Input coercion as Shopify does it, before anything executes: a malformed global id or a non-decimal Money /
Decimal is a top-level error of the whole request (no `data`), never a userError or a silent null.

graphql-core builds `ID` as the standard scalar, which takes any string, and the SDL's custom scalars take any
value; Shopify (graphql-ruby) refuses both during coercion. The shapes follow Shopify's answers: a literal in the
document gives `extensions.code = argumentLiteralsIncompatible` (typeName CoercionError); a variable gives
"Variable $x of type T was provided invalid value" with `extensions.value` and `extensions.problems`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    DocumentNode,
    FloatValueNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    print_ast,
    type_from_ast,
    visit,
)

_GID = re.compile(r"^gid://shopify/[A-Za-z][A-Za-z0-9]*/[0-9]+(\?.*)?$")


def _global_id(value: Any) -> str | None:
    if isinstance(value, str) and _GID.match(value):
        return None
    return f"Invalid global id '{value}'"


def _decimal(type_name: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, bool) and isinstance(value, (str, int, float)):
            try:
                if Decimal(str(value).strip()).is_finite():
                    return None
            except InvalidOperation:
                pass
        return f'Could not coerce value "{value}" to {type_name}'

    return check


CHECKS: dict[str, Callable[[Any], str | None]] = {
    "ID": _global_id,
    "Money": _decimal("Money"),
    "Decimal": _decimal("Decimal"),
}


def literal_errors(schema: GraphQLSchema, doc: DocumentNode) -> list[dict[str, Any]]:
    """Checked scalars written into the document itself (no variables involved)."""
    type_info = TypeInfo(schema)
    errors: list[dict[str, Any]] = []

    class Literals(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            if not isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
                return
            input_type = type_info.get_input_type()
            check = CHECKS.get(get_named_type(input_type).name) if input_type is not None else None
            value = node.value if isinstance(node, StringValueNode) else print_ast(node)
            problem = check(value) if check else None
            if problem:
                loc = node.loc.source.get_location(node.loc.start) if node.loc else None
                errors.append(
                    {
                        "message": problem,
                        "locations": [{"line": loc.line, "column": loc.column}] if loc else [],
                        "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
                    }
                )

    visit(doc, TypeInfoVisitor(type_info, Literals()))
    return errors


def variable_errors(
    schema: GraphQLSchema, op: OperationDefinitionNode, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for definition in op.variable_definitions or ():
        name = definition.variable.name.value
        var_type = type_from_ast(schema, definition.type)
        if name not in variables or var_type is None:
            continue  # missing / unknown types are graphql-core's own errors
        for path, problem in _walk(var_type, variables[name], []):  # type: ignore[arg-type]
            where = f" for {'.'.join(path)} ({problem})" if path else ""
            errors.append(
                {
                    "message": f"Variable ${name} of type {print_ast(definition.type)} was provided invalid value"
                    + where,
                    "locations": _locations(definition.loc),
                    "extensions": {
                        "value": variables[name],
                        "problems": [{"path": path, "explanation": problem, "message": problem}],
                    },
                }
            )
    return errors


def _walk(t: GraphQLInputType, value: Any, path: list[str]) -> Iterator[tuple[list[str], str]]:
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    if value is None:
        return
    if isinstance(t, GraphQLList):
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            yield from _walk(t.of_type, item, [*path, str(i)])
        return
    if isinstance(t, GraphQLInputObjectType):
        if isinstance(value, dict):
            for key, item in value.items():
                field = t.fields.get(key)
                if field is not None:
                    yield from _walk(field.type, item, [*path, key])
        return
    check = CHECKS.get(get_named_type(t).name)
    problem = check(value) if check else None
    if problem:
        yield path, problem


def _locations(loc: Any) -> list[dict[str, int]]:
    if loc is None:
        return []
    where = loc.source.get_location(loc.start)
    return [{"line": where.line, "column": where.column}]
