from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO






T = TypeVar("T", bound="CreateDatasetForm")



@_attrs_define
class CreateDatasetForm:
    """ 
        Attributes:
            file (File): The data file
            name (str): Unique dataset name
            header (bool | Unset): csv: whether the first row names the columns. Unset, a first row of numbers is refused
                (422) rather than taken as names.
            image_shape (str | Unset): H,W[,C], e.g. 8,8,1
            label_column (str | Unset): csv/parquet column of labels
            sha256 (str | Unset): The file's sha256 (hex), when the client wants the upload checked: on a mismatch nothing
                is stored and the answer is 422.
     """

    file: File
    name: str
    header: bool | Unset = UNSET
    image_shape: str | Unset = UNSET
    label_column: str | Unset = UNSET
    sha256: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        name = self.name

        header = self.header

        image_shape = self.image_shape

        label_column = self.label_column

        sha256 = self.sha256


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "name": name,
        })
        if header is not UNSET:
            field_dict["header"] = header
        if image_shape is not UNSET:
            field_dict["image_shape"] = image_shape
        if label_column is not UNSET:
            field_dict["label_column"] = label_column
        if sha256 is not UNSET:
            field_dict["sha256"] = sha256

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        files.append(("name", (None, str(self.name).encode(), "text/plain")))



        if not isinstance(self.header, Unset):
            files.append(("header", (None, str(self.header).encode(), "text/plain")))



        if not isinstance(self.image_shape, Unset):
            files.append(("image_shape", (None, str(self.image_shape).encode(), "text/plain")))



        if not isinstance(self.label_column, Unset):
            files.append(("label_column", (None, str(self.label_column).encode(), "text/plain")))



        if not isinstance(self.sha256, Unset):
            files.append(("sha256", (None, str(self.sha256).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        name = d.pop("name")

        header = d.pop("header", UNSET)

        image_shape = d.pop("image_shape", UNSET)

        label_column = d.pop("label_column", UNSET)

        sha256 = d.pop("sha256", UNSET)

        create_dataset_form = cls(
            file=file,
            name=name,
            header=header,
            image_shape=image_shape,
            label_column=label_column,
            sha256=sha256,
        )


        create_dataset_form.additional_properties = d
        return create_dataset_form

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
