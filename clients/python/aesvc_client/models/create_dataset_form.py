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
from typing import cast






T = TypeVar("T", bound="CreateDatasetForm")



@_attrs_define
class CreateDatasetForm:
    """ 
        Attributes:
            file (File): The data file
            name (str): Unique dataset name
            header (bool | None | Unset): csv: whether the first row names the columns. Unset, a first row of numbers is
                refused (422) rather than taken as names.
            image_shape (None | str | Unset): H,W[,C], e.g. 8,8,1
            label_column (None | str | Unset): csv/parquet column of labels
            sha256 (None | str | Unset): The file's sha256 (hex), when the client wants the upload checked: on a mismatch
                nothing is stored and the answer is 422.
     """

    file: File
    name: str
    header: bool | None | Unset = UNSET
    image_shape: None | str | Unset = UNSET
    label_column: None | str | Unset = UNSET
    sha256: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        name = self.name

        header: bool | None | Unset
        if isinstance(self.header, Unset):
            header = UNSET
        else:
            header = self.header

        image_shape: None | str | Unset
        if isinstance(self.image_shape, Unset):
            image_shape = UNSET
        else:
            image_shape = self.image_shape

        label_column: None | str | Unset
        if isinstance(self.label_column, Unset):
            label_column = UNSET
        else:
            label_column = self.label_column

        sha256: None | str | Unset
        if isinstance(self.sha256, Unset):
            sha256 = UNSET
        else:
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
            if isinstance(self.header, bool):

                files.append(("header", (None, str(self.header).encode(), "text/plain")))
            else:
                files.append(("header", (None, str(self.header).encode(), "text/plain")))


        if not isinstance(self.image_shape, Unset):
            if isinstance(self.image_shape, str):

                files.append(("image_shape", (None, str(self.image_shape).encode(), "text/plain")))
            else:
                files.append(("image_shape", (None, str(self.image_shape).encode(), "text/plain")))


        if not isinstance(self.label_column, Unset):
            if isinstance(self.label_column, str):

                files.append(("label_column", (None, str(self.label_column).encode(), "text/plain")))
            else:
                files.append(("label_column", (None, str(self.label_column).encode(), "text/plain")))


        if not isinstance(self.sha256, Unset):
            if isinstance(self.sha256, str):

                files.append(("sha256", (None, str(self.sha256).encode(), "text/plain")))
            else:
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

        def _parse_header(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        header = _parse_header(d.pop("header", UNSET))


        def _parse_image_shape(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image_shape = _parse_image_shape(d.pop("image_shape", UNSET))


        def _parse_label_column(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label_column = _parse_label_column(d.pop("label_column", UNSET))


        def _parse_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sha256 = _parse_sha256(d.pop("sha256", UNSET))


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
