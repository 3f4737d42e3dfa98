from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.sweep_create import SweepCreate
from ...models.sweep_public import SweepPublic
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: SweepCreate,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sweeps",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | SweepPublic | None:
    if response.status_code == 202:
        response_202 = SweepPublic.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | SweepPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: SweepCreate,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[Problem | SweepPublic]:
    """ Start a sweep: a grid or a search of trials, each an ordinary job

    Args:
        idempotency_key (None | str | Unset): Retry-safe creation: the same key and request replay
            the first answer (`Idempotent-Replayed: true`); scoped to your API key, kept
            AESVC_IDEMPOTENCY_TTL_S
        body (SweepCreate): A sweep: train every combination of a grid, or the trials of a search,
            and say
            which is best and which code size is enough.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SweepPublic]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: SweepCreate,
    idempotency_key: None | str | Unset = UNSET,

) -> Problem | SweepPublic | None:
    """ Start a sweep: a grid or a search of trials, each an ordinary job

    Args:
        idempotency_key (None | str | Unset): Retry-safe creation: the same key and request replay
            the first answer (`Idempotent-Replayed: true`); scoped to your API key, kept
            AESVC_IDEMPOTENCY_TTL_S
        body (SweepCreate): A sweep: train every combination of a grid, or the trials of a search,
            and say
            which is best and which code size is enough.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SweepPublic
     """


    return sync_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SweepCreate,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[Problem | SweepPublic]:
    """ Start a sweep: a grid or a search of trials, each an ordinary job

    Args:
        idempotency_key (None | str | Unset): Retry-safe creation: the same key and request replay
            the first answer (`Idempotent-Replayed: true`); scoped to your API key, kept
            AESVC_IDEMPOTENCY_TTL_S
        body (SweepCreate): A sweep: train every combination of a grid, or the trials of a search,
            and say
            which is best and which code size is enough.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SweepPublic]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: SweepCreate,
    idempotency_key: None | str | Unset = UNSET,

) -> Problem | SweepPublic | None:
    """ Start a sweep: a grid or a search of trials, each an ordinary job

    Args:
        idempotency_key (None | str | Unset): Retry-safe creation: the same key and request replay
            the first answer (`Idempotent-Replayed: true`); scoped to your API key, kept
            AESVC_IDEMPOTENCY_TTL_S
        body (SweepCreate): A sweep: train every combination of a grid, or the trials of a search,
            and say
            which is best and which code size is enough.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SweepPublic
     """


    return (await asyncio_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
