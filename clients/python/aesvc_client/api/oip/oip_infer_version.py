from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.infer_response import InferResponse
from ...models.oip_error import OipError
from ...models.oip_error_body import OipErrorBody
from ...models.oip_infer_version_json_infer_request import OipInferVersionJsonInferRequest
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast



def _get_kwargs(
    name: str,
    version: str,
    *,
    body:    OipInferVersionJsonInferRequest  |     File ,
    inference_header_content_length: int | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(inference_header_content_length, Unset):
        headers["Inference-Header-Content-Length"] = str(inference_header_content_length)




    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/models/{name}/versions/{version}/infer".format(name=quote(str(name), safe=""),version=quote(str(version), safe=""),),
    }

    if isinstance(body, OipInferVersionJsonInferRequest):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> InferResponse | OipError | OipErrorBody | None:
    if response.status_code == 200:
        response_200 = InferResponse.from_dict(response.json())



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

    if response.status_code == 404:
        response_404 = OipErrorBody.from_dict(response.json())



        return response_404

    if response.status_code == 413:
        response_413 = OipErrorBody.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = OipErrorBody.from_dict(response.json())



        return response_415

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[InferResponse | OipError | OipErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    version: str,
    *,
    client: AuthenticatedClient,
    body:    OipInferVersionJsonInferRequest  |     File ,
    inference_header_content_length: int | Unset = UNSET,

) -> Response[InferResponse | OipError | OipErrorBody]:
    """ Inference on a version

    Args:
        name (str):
        version (str):
        inference_header_content_length (int | Unset):
        body (OipInferVersionJsonInferRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[InferResponse | OipError | OipErrorBody]
     """


    kwargs = _get_kwargs(
        name=name,
version=version,
body=body,
inference_header_content_length=inference_header_content_length,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    name: str,
    version: str,
    *,
    client: AuthenticatedClient,
    body:    OipInferVersionJsonInferRequest  |     File ,
    inference_header_content_length: int | Unset = UNSET,

) -> InferResponse | OipError | OipErrorBody | None:
    """ Inference on a version

    Args:
        name (str):
        version (str):
        inference_header_content_length (int | Unset):
        body (OipInferVersionJsonInferRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        InferResponse | OipError | OipErrorBody
     """


    return sync_detailed(
        name=name,
version=version,
client=client,
body=body,
inference_header_content_length=inference_header_content_length,

    ).parsed

async def asyncio_detailed(
    name: str,
    version: str,
    *,
    client: AuthenticatedClient,
    body:    OipInferVersionJsonInferRequest  |     File ,
    inference_header_content_length: int | Unset = UNSET,

) -> Response[InferResponse | OipError | OipErrorBody]:
    """ Inference on a version

    Args:
        name (str):
        version (str):
        inference_header_content_length (int | Unset):
        body (OipInferVersionJsonInferRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[InferResponse | OipError | OipErrorBody]
     """


    kwargs = _get_kwargs(
        name=name,
version=version,
body=body,
inference_header_content_length=inference_header_content_length,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    name: str,
    version: str,
    *,
    client: AuthenticatedClient,
    body:    OipInferVersionJsonInferRequest  |     File ,
    inference_header_content_length: int | Unset = UNSET,

) -> InferResponse | OipError | OipErrorBody | None:
    """ Inference on a version

    Args:
        name (str):
        version (str):
        inference_header_content_length (int | Unset):
        body (OipInferVersionJsonInferRequest):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        InferResponse | OipError | OipErrorBody
     """


    return (await asyncio_detailed(
        name=name,
version=version,
client=client,
body=body,
inference_header_content_length=inference_header_content_length,

    )).parsed
