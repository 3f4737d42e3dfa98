from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.export_model_version_format import ExportModelVersionFormat
from ...models.export_model_version_part import ExportModelVersionPart
from ...models.problem import Problem
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast



def _get_kwargs(
    name: str,
    ref: str,
    *,
    format_: ExportModelVersionFormat | Unset = ExportModelVersionFormat.SAFETENSORS,
    part: ExportModelVersionPart | Unset = ExportModelVersionPart.FULL,
    if_none_match: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["if-none-match"] = if_none_match



    

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    json_part: str | Unset = UNSET
    if not isinstance(part, Unset):
        json_part = part.value

    params["part"] = json_part


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/models/{name}/versions/{ref}/artifact".format(name=quote(str(name), safe=""),ref=quote(str(ref), safe=""),),
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | File | Problem | None:
    if response.status_code == 200:
        response_200 = File(
             payload = BytesIO(response.content)
        )



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

    if response.status_code == 507:
        response_507 = Problem.from_dict(response.json())



        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | File | Problem]:
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
    format_: ExportModelVersionFormat | Unset = ExportModelVersionFormat.SAFETENSORS,
    part: ExportModelVersionPart | Unset = ExportModelVersionPart.FULL,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | File | Problem]:
    """ Download the version as safetensors, ONNX or TorchScript (raw-unit inputs)

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        format_ (ExportModelVersionFormat | Unset):  Default:
            ExportModelVersionFormat.SAFETENSORS.
        part (ExportModelVersionPart | Unset): full, encoder or decoder Default:
            ExportModelVersionPart.FULL.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | File | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
ref=ref,
format_=format_,
part=part,
if_none_match=if_none_match,

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
    format_: ExportModelVersionFormat | Unset = ExportModelVersionFormat.SAFETENSORS,
    part: ExportModelVersionPart | Unset = ExportModelVersionPart.FULL,
    if_none_match: None | str | Unset = UNSET,

) -> Any | File | Problem | None:
    """ Download the version as safetensors, ONNX or TorchScript (raw-unit inputs)

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        format_ (ExportModelVersionFormat | Unset):  Default:
            ExportModelVersionFormat.SAFETENSORS.
        part (ExportModelVersionPart | Unset): full, encoder or decoder Default:
            ExportModelVersionPart.FULL.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | File | Problem
     """


    return sync_detailed(
        name=name,
ref=ref,
client=client,
format_=format_,
part=part,
if_none_match=if_none_match,

    ).parsed

async def asyncio_detailed(
    name: str,
    ref: str,
    *,
    client: AuthenticatedClient,
    format_: ExportModelVersionFormat | Unset = ExportModelVersionFormat.SAFETENSORS,
    part: ExportModelVersionPart | Unset = ExportModelVersionPart.FULL,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | File | Problem]:
    """ Download the version as safetensors, ONNX or TorchScript (raw-unit inputs)

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        format_ (ExportModelVersionFormat | Unset):  Default:
            ExportModelVersionFormat.SAFETENSORS.
        part (ExportModelVersionPart | Unset): full, encoder or decoder Default:
            ExportModelVersionPart.FULL.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | File | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
ref=ref,
format_=format_,
part=part,
if_none_match=if_none_match,

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
    format_: ExportModelVersionFormat | Unset = ExportModelVersionFormat.SAFETENSORS,
    part: ExportModelVersionPart | Unset = ExportModelVersionPart.FULL,
    if_none_match: None | str | Unset = UNSET,

) -> Any | File | Problem | None:
    """ Download the version as safetensors, ONNX or TorchScript (raw-unit inputs)

    Args:
        name (str):
        ref (str): A version number or an alias (latest always exists)
        format_ (ExportModelVersionFormat | Unset):  Default:
            ExportModelVersionFormat.SAFETENSORS.
        part (ExportModelVersionPart | Unset): full, encoder or decoder Default:
            ExportModelVersionPart.FULL.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | File | Problem
     """


    return (await asyncio_detailed(
        name=name,
ref=ref,
client=client,
format_=format_,
part=part,
if_none_match=if_none_match,

    )).parsed
