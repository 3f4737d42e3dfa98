from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.oip_error import OipError
from ...models.oip_register_system_shared_memory_system_shared_memory_register import OipRegisterSystemSharedMemorySystemSharedMemoryRegister
from typing import cast



def _get_kwargs(
    region: str,
    *,
    body: OipRegisterSystemSharedMemorySystemSharedMemoryRegister,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/systemsharedmemory/region/{region}/register".format(region=quote(str(region), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | OipError | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 400:
        response_400 = OipError.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = OipError.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = OipError.from_dict(response.json())



        return response_403

    if response.status_code == 429:
        response_429 = OipError.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = OipError.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = OipError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | OipError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    region: str,
    *,
    client: AuthenticatedClient,
    body: OipRegisterSystemSharedMemorySystemSharedMemoryRegister,

) -> Response[Any | OipError]:
    """ Register a region of a POSIX shared memory object

    Args:
        region (str):
        body (OipRegisterSystemSharedMemorySystemSharedMemoryRegister):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OipError]
     """


    kwargs = _get_kwargs(
        region=region,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    region: str,
    *,
    client: AuthenticatedClient,
    body: OipRegisterSystemSharedMemorySystemSharedMemoryRegister,

) -> Any | OipError | None:
    """ Register a region of a POSIX shared memory object

    Args:
        region (str):
        body (OipRegisterSystemSharedMemorySystemSharedMemoryRegister):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OipError
     """


    return sync_detailed(
        region=region,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    region: str,
    *,
    client: AuthenticatedClient,
    body: OipRegisterSystemSharedMemorySystemSharedMemoryRegister,

) -> Response[Any | OipError]:
    """ Register a region of a POSIX shared memory object

    Args:
        region (str):
        body (OipRegisterSystemSharedMemorySystemSharedMemoryRegister):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OipError]
     """


    kwargs = _get_kwargs(
        region=region,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    region: str,
    *,
    client: AuthenticatedClient,
    body: OipRegisterSystemSharedMemorySystemSharedMemoryRegister,

) -> Any | OipError | None:
    """ Register a region of a POSIX shared memory object

    Args:
        region (str):
        body (OipRegisterSystemSharedMemorySystemSharedMemoryRegister):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OipError
     """


    return (await asyncio_detailed(
        region=region,
client=client,
body=body,

    )).parsed
