from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.oip_error import OipError
from ...models.statistics_response import StatisticsResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    limit: int | Unset = 1000,
    page_token: None | str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_page_token: None | str | Unset
    if isinstance(page_token, Unset):
        json_page_token = UNSET
    else:
        json_page_token = page_token
    params["page_token"] = json_page_token


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/models/stats",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OipError | StatisticsResponse | None:
    if response.status_code == 200:
        response_200 = StatisticsResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OipError | StatisticsResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 1000,
    page_token: None | str | Unset = UNSET,

) -> Response[OipError | StatisticsResponse]:
    """ Inference statistics of every ready version of every model

    Args:
        limit (int | Unset): Versions per page Default: 1000.
        page_token (None | str | Unset): next_page_token of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OipError | StatisticsResponse]
     """


    kwargs = _get_kwargs(
        limit=limit,
page_token=page_token,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 1000,
    page_token: None | str | Unset = UNSET,

) -> OipError | StatisticsResponse | None:
    """ Inference statistics of every ready version of every model

    Args:
        limit (int | Unset): Versions per page Default: 1000.
        page_token (None | str | Unset): next_page_token of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OipError | StatisticsResponse
     """


    return sync_detailed(
        client=client,
limit=limit,
page_token=page_token,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 1000,
    page_token: None | str | Unset = UNSET,

) -> Response[OipError | StatisticsResponse]:
    """ Inference statistics of every ready version of every model

    Args:
        limit (int | Unset): Versions per page Default: 1000.
        page_token (None | str | Unset): next_page_token of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OipError | StatisticsResponse]
     """


    kwargs = _get_kwargs(
        limit=limit,
page_token=page_token,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 1000,
    page_token: None | str | Unset = UNSET,

) -> OipError | StatisticsResponse | None:
    """ Inference statistics of every ready version of every model

    Args:
        limit (int | Unset): Versions per page Default: 1000.
        page_token (None | str | Unset): next_page_token of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OipError | StatisticsResponse
     """


    return (await asyncio_detailed(
        client=client,
limit=limit,
page_token=page_token,

    )).parsed
