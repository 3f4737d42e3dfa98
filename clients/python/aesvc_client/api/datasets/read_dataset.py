from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.dataset_public import DatasetPublic
from ...models.dataset_view import DatasetView
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id_or_name: str,
    *,
    view: DatasetView | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_view: str | Unset = UNSET
    if not isinstance(view, Unset):
        json_view = view.value

    params["view"] = json_view


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/datasets/{id_or_name}".format(id_or_name=quote(str(id_or_name), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | DatasetPublic | Problem | None:
    if response.status_code == 200:
        response_200 = DatasetPublic.from_dict(response.json())



        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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

    if response.status_code == 507:
        response_507 = Problem.from_dict(response.json())



        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | DatasetPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    view: DatasetView | Unset = UNSET,

) -> Response[Any | DatasetPublic | Problem]:
    """ Get a dataset by id or name

    Args:
        id_or_name (str):
        view (DatasetView | Unset): How much of a dataset an answer carries (Google's AIP-157
            partial views): `basic`
            leaves out what grows with the number of features (`feature_names`, `stats`: megabytes of
            JSON for a 512x512 image set, behind a request of a few dozen bytes); `full` is all of it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DatasetPublic | Problem]
     """


    kwargs = _get_kwargs(
        id_or_name=id_or_name,
view=view,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    view: DatasetView | Unset = UNSET,

) -> Any | DatasetPublic | Problem | None:
    """ Get a dataset by id or name

    Args:
        id_or_name (str):
        view (DatasetView | Unset): How much of a dataset an answer carries (Google's AIP-157
            partial views): `basic`
            leaves out what grows with the number of features (`feature_names`, `stats`: megabytes of
            JSON for a 512x512 image set, behind a request of a few dozen bytes); `full` is all of it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DatasetPublic | Problem
     """


    return sync_detailed(
        id_or_name=id_or_name,
client=client,
view=view,

    ).parsed

async def asyncio_detailed(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    view: DatasetView | Unset = UNSET,

) -> Response[Any | DatasetPublic | Problem]:
    """ Get a dataset by id or name

    Args:
        id_or_name (str):
        view (DatasetView | Unset): How much of a dataset an answer carries (Google's AIP-157
            partial views): `basic`
            leaves out what grows with the number of features (`feature_names`, `stats`: megabytes of
            JSON for a 512x512 image set, behind a request of a few dozen bytes); `full` is all of it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DatasetPublic | Problem]
     """


    kwargs = _get_kwargs(
        id_or_name=id_or_name,
view=view,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    view: DatasetView | Unset = UNSET,

) -> Any | DatasetPublic | Problem | None:
    """ Get a dataset by id or name

    Args:
        id_or_name (str):
        view (DatasetView | Unset): How much of a dataset an answer carries (Google's AIP-157
            partial views): `basic`
            leaves out what grows with the number of features (`feature_names`, `stats`: megabytes of
            JSON for a 512x512 image set, behind a request of a few dozen bytes); `full` is all of it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DatasetPublic | Problem
     """


    return (await asyncio_detailed(
        id_or_name=id_or_name,
client=client,
view=view,

    )).parsed
