from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.batch_operation import BatchOperation
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BatchJobCreate")



@_attrs_define
class BatchJobCreate:
    """ Run a model version over a dataset; the outputs become a new dataset.

        Attributes:
            dataset (str): Dataset id or name.
            model (str): The model's name.
            operation (BatchOperation): What each row of the output holds: `encode` its codings (a VAE: their means),
                `reconstruct` its reconstruction in the data's units, `score` its anomaly score.
            output (None | str | Unset): Name of the dataset to create; default `<dataset>-<operation>-<8 hex>`.
            priority (int | Unset): Higher runs first. Default: 0.
            version (int | str | Unset): A version number, an alias, or `latest` (as the {ref} of
                /v1/models/{name}/versions/{ref}); resolved when the job is submitted, so an alias moved later does not change
                the job. Default: 'latest'.
     """

    dataset: str
    model: str
    operation: BatchOperation
    output: None | str | Unset = UNSET
    priority: int | Unset = 0
    version: int | str | Unset = 'latest'





    def to_dict(self) -> dict[str, Any]:
        dataset = self.dataset

        model = self.model

        operation = self.operation.value

        output: None | str | Unset
        if isinstance(self.output, Unset):
            output = UNSET
        else:
            output = self.output

        priority = self.priority

        version: int | str | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "dataset": dataset,
            "model": model,
            "operation": operation,
        })
        if output is not UNSET:
            field_dict["output"] = output
        if priority is not UNSET:
            field_dict["priority"] = priority
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dataset = d.pop("dataset")

        model = d.pop("model")

        operation = BatchOperation(d.pop("operation"))




        def _parse_output(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output = _parse_output(d.pop("output", UNSET))


        priority = d.pop("priority", UNSET)

        def _parse_version(data: object) -> int | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(int | str | Unset, data)

        version = _parse_version(d.pop("version", UNSET))


        batch_job_create = cls(
            dataset=dataset,
            model=model,
            operation=operation,
            output=output,
            priority=priority,
            version=version,
        )

        return batch_job_create

