from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.batch_progress_runtime_type_0 import BatchProgressRuntimeType0
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BatchProgress")



@_attrs_define
class BatchProgress:
    """ 
        Attributes:
            chunks_done (int):
            chunks_total (int):
            rows_done (int):
            rows_total (int):
            attempt (int | None | Unset):
            rows_per_s (float | None | Unset): This attempt's rate
            runtime (BatchProgressRuntimeType0 | None | Unset): What computes the chunks (AESVC_INFERENCE_BACKEND; a resumed
                job keeps the runtime that computed the chunks recorded before it)
     """

    chunks_done: int
    chunks_total: int
    rows_done: int
    rows_total: int
    attempt: int | None | Unset = UNSET
    rows_per_s: float | None | Unset = UNSET
    runtime: BatchProgressRuntimeType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        chunks_done = self.chunks_done

        chunks_total = self.chunks_total

        rows_done = self.rows_done

        rows_total = self.rows_total

        attempt: int | None | Unset
        if isinstance(self.attempt, Unset):
            attempt = UNSET
        else:
            attempt = self.attempt

        rows_per_s: float | None | Unset
        if isinstance(self.rows_per_s, Unset):
            rows_per_s = UNSET
        else:
            rows_per_s = self.rows_per_s

        runtime: None | str | Unset
        if isinstance(self.runtime, Unset):
            runtime = UNSET
        elif isinstance(self.runtime, BatchProgressRuntimeType0):
            runtime = self.runtime.value
        else:
            runtime = self.runtime


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "chunks_done": chunks_done,
            "chunks_total": chunks_total,
            "rows_done": rows_done,
            "rows_total": rows_total,
        })
        if attempt is not UNSET:
            field_dict["attempt"] = attempt
        if rows_per_s is not UNSET:
            field_dict["rows_per_s"] = rows_per_s
        if runtime is not UNSET:
            field_dict["runtime"] = runtime

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        chunks_done = d.pop("chunks_done")

        chunks_total = d.pop("chunks_total")

        rows_done = d.pop("rows_done")

        rows_total = d.pop("rows_total")

        def _parse_attempt(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        attempt = _parse_attempt(d.pop("attempt", UNSET))


        def _parse_rows_per_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        rows_per_s = _parse_rows_per_s(d.pop("rows_per_s", UNSET))


        def _parse_runtime(data: object) -> BatchProgressRuntimeType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                runtime_type_0 = BatchProgressRuntimeType0(data)



                return runtime_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchProgressRuntimeType0 | None | Unset, data)

        runtime = _parse_runtime(d.pop("runtime", UNSET))


        batch_progress = cls(
            chunks_done=chunks_done,
            chunks_total=chunks_total,
            rows_done=rows_done,
            rows_total=rows_total,
            attempt=attempt,
            rows_per_s=rows_per_s,
            runtime=runtime,
        )


        batch_progress.additional_properties = d
        return batch_progress

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
