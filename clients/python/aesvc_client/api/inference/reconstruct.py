from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.reconstruct_json_reconstruct_request import ReconstructJsonReconstructRequest
from ...models.reconstruct_response import ReconstructResponse
from ...types import File, FileTypes
from io import BytesIO
from typing import cast



def _get_kwargs(
    name: str,
    ref: str,
    *,
    body:    ReconstructJsonReconstructRequest  |     File ,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/models/{name}/versions/{ref}/reconstruct".format(name=quote(str(name), safe=""),ref=quote(str(ref), safe=""),),
    }

    if isinstance(body, ReconstructJsonReconstructRequest):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/x-npy"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | ReconstructResponse | None:
    if response.status_code == 200:
        response_200 = ReconstructResponse.from_dict(response.json())



        return response_200

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

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())



        return response_410

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

    if response.status_code == 504:
        response_504 = Problem.from_dict(response.json())



        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | ReconstructResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    ref: str,
    *,
    client: AuthenticatedClient,
    body:    ReconstructJsonReconstructRequest  |     File ,

) -> Response[Problem | ReconstructResponse]:
    """ Reconstruct rows; per-row errors

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        body (ReconstructJsonReconstructRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconstructResponse]
     """


    kwargs = _get_kwargs(
        name=name,
ref=ref,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    name: str,
    ref: str,
    *,
    client: AuthenticatedClient,
    body:    ReconstructJsonReconstructRequest  |     File ,

) -> Problem | ReconstructResponse | None:
    """ Reconstruct rows; per-row errors

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        body (ReconstructJsonReconstructRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconstructResponse
     """


    return sync_detailed(
        name=name,
ref=ref,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    name: str,
    ref: str,
    *,
    client: AuthenticatedClient,
    body:    ReconstructJsonReconstructRequest  |     File ,

) -> Response[Problem | ReconstructResponse]:
    """ Reconstruct rows; per-row errors

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        body (ReconstructJsonReconstructRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconstructResponse]
     """


    kwargs = _get_kwargs(
        name=name,
ref=ref,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    name: str,
    ref: str,
    *,
    client: AuthenticatedClient,
    body:    ReconstructJsonReconstructRequest  |     File ,

) -> Problem | ReconstructResponse | None:
    """ Reconstruct rows; per-row errors

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        body (ReconstructJsonReconstructRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconstructResponse
     """


    return (await asyncio_detailed(
        name=name,
ref=ref,
client=client,
body=body,

    )).parsed
