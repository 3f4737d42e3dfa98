"""Query parameters a route does not take are refused (422 naming the first), as Stripe's
API refuses them: a misspelt `?fromat=onnx` once downloaded safetensors that
README's command saved as `encoder.onnx`, and `?stauts=failed` listed every job."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from service.errors import Unprocessable


def _taken(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and its dependencies declare, by the name sent (a
    walk of a few dependants: these are not the hot inference routes)."""
    names: set[str] = set()
    dependants = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        names.update(param.alias for param in dependant.query_params)
        dependants.extend(dependant.dependencies)
    return frozenset(names)


def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    taken = _taken(route)
    for name in request.query_params:
        if name not in taken:
            expected = f"one of {sorted(taken)}" if taken else "none"
            raise Unprocessable(
                name, f"is not a query parameter of this route; expected {expected}"
            )
