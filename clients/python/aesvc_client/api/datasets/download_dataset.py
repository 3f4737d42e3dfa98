from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.download_dataset_format import DownloadDatasetFormat
from ...models.problem import Problem
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast



def _get_kwargs(
    id_or_name: str,
    *,
    format_: DownloadDatasetFormat | Unset = DownloadDatasetFormat.NPY,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/datasets/{id_or_name}/data".format(id_or_name=quote(str(id_or_name), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(
             payload = BytesIO(response.content)
        )



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
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
    format_: DownloadDatasetFormat | Unset = DownloadDatasetFormat.NPY,

) -> Response[File | Problem]:
    """ Download a dataset's rows (.npy or .parquet)

    Args:
        id_or_name (str):
        format_ (DownloadDatasetFormat | Unset): The file's format Default:
            DownloadDatasetFormat.NPY.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
     """


    kwargs = _get_kwargs(
        id_or_name=id_or_name,
format_=format_,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadDatasetFormat | Unset = DownloadDatasetFormat.NPY,

) -> File | Problem | None:
    """ Download a dataset's rows (.npy or .parquet)

    Args:
        id_or_name (str):
        format_ (DownloadDatasetFormat | Unset): The file's format Default:
            DownloadDatasetFormat.NPY.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
     """


    return sync_detailed(
        id_or_name=id_or_name,
client=client,
format_=format_,

    ).parsed

async def asyncio_detailed(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadDatasetFormat | Unset = DownloadDatasetFormat.NPY,

) -> Response[File | Problem]:
    """ Download a dataset's rows (.npy or .parquet)

    Args:
        id_or_name (str):
        format_ (DownloadDatasetFormat | Unset): The file's format Default:
            DownloadDatasetFormat.NPY.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
     """


    kwargs = _get_kwargs(
        id_or_name=id_or_name,
format_=format_,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id_or_name: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadDatasetFormat | Unset = DownloadDatasetFormat.NPY,

) -> File | Problem | None:
    """ Download a dataset's rows (.npy or .parquet)

    Args:
        id_or_name (str):
        format_ (DownloadDatasetFormat | Unset): The file's format Default:
            DownloadDatasetFormat.NPY.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
     """


    return (await asyncio_detailed(
        id_or_name=id_or_name,
client=client,
format_=format_,

    )).parsed
