"""`ApiRoute`, the route class of every JSON API route (FastAPI's documented hook for custom request handling).

- **Auth first.** FastAPI reads and parses a JSON body before it solves any dependency, so without this a request
  with no token but a malformed body was answered 422 (and learned about the body's shape) instead of 401. A route
  whose dependencies include `current_caller` authenticates here, before the body is touched, and leaves the caller
  in `request.state` for the dependency.
- **Strict JSON.** Python's parser accepts `NaN`, `Infinity` and `1e400` (which becomes infinity); a number that is
  not finite would then be stored (PostgreSQL's JSON refuses it: a 500) or compared. They are refused as invalid
  JSON (422), like any other malformed body.
- **Documented errors.** Each route's OpenAPI lists the error statuses it really answers, with the one error schema:
  401 / 403 from its auth dependencies, 503 where it needs Temporal, 422 where it takes input, 404 where its path
  names a resource, plus the ones the route declares (`responses=error_responses(409)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import authenticate, current_caller, get_temporal
from api.errors import ErrorBody, error_responses


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is too large for a number")
    return value


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
            except json.JSONDecodeError:
                raise
            except (
                ValueError,
                RecursionError,
            ) as exc:  # an int too long, NaN, nesting too deep: not JSON we read
                raise json.JSONDecodeError(str(exc)[:200], "", 0) from None
        return self._json


def walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from walk(sub)


def takes_input(dependant: Dependant) -> bool:
    return any(
        d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
        for d in walk(dependant)
    )


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        calls = [d.call for d in walk(self.dependant)]
        codes = []
        if current_caller in calls:
            codes.append(401)
        if any(getattr(c, "roles", None) for c in calls):
            codes.append(403)
        if takes_input(self.dependant):
            codes.append(422)
        if self.dependant.path_params:  # a path that names something can name something that is not there
            codes.append(404)
        if get_temporal in calls:
            codes.append(503)
        for code, doc in error_responses(*codes).items():
            self.responses.setdefault(code, doc)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()
        needs_caller = any(d.call is current_caller for d in walk(self.dependant))

        async def handler(request: Request) -> Response:
            request = StrictJsonRequest(request.scope, request.receive)
            if needs_caller:
                engine = request.app.state.engine
                request.state.caller = await run_in_threadpool(
                    authenticate, engine, request.headers.get("authorization")
                )
            return await inner(request)

        return handler


def install_error_schema(app: Any) -> None:
    """Adds the one error schema to the OpenAPI components (routes refer to it by `$ref`) and drops FastAPI's own
    validation-error schemas, which no route answers with."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema  # type: ignore[no-any-return]
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
        components["ErrorBody"] = {
            k: v
            for k, v in ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}").items()
            if k != "$defs"
        }
        text = json.dumps(schema["paths"])
        for unused in ("HTTPValidationError", "ValidationError"):
            if f'"#/components/schemas/{unused}"' not in text:
                components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
