from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="JobProgress")



@_attrs_define
class JobProgress:
    """ The last epoch's report; while the next epoch runs, `batch` and `batches` say how far
    into it the job is (renewed every few seconds; a shorter epoch shows neither).

        Attributes:
            epoch (int): Epochs done (0 until the first ends).
            epochs (int):
            batch (int | None | Unset): Batches done of the epoch under way (epoch + 1).
            batches (int | None | Unset): Batches in the epoch under way.
            samples_per_s (float | None | Unset):
            stage (None | str | Unset):
            train_loss (float | None | Unset):
            val_loss (float | None | Unset):
     """

    epoch: int
    epochs: int
    batch: int | None | Unset = UNSET
    batches: int | None | Unset = UNSET
    samples_per_s: float | None | Unset = UNSET
    stage: None | str | Unset = UNSET
    train_loss: float | None | Unset = UNSET
    val_loss: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        epoch = self.epoch

        epochs = self.epochs

        batch: int | None | Unset
        if isinstance(self.batch, Unset):
            batch = UNSET
        else:
            batch = self.batch

        batches: int | None | Unset
        if isinstance(self.batches, Unset):
            batches = UNSET
        else:
            batches = self.batches

        samples_per_s: float | None | Unset
        if isinstance(self.samples_per_s, Unset):
            samples_per_s = UNSET
        else:
            samples_per_s = self.samples_per_s

        stage: None | str | Unset
        if isinstance(self.stage, Unset):
            stage = UNSET
        else:
            stage = self.stage

        train_loss: float | None | Unset
        if isinstance(self.train_loss, Unset):
            train_loss = UNSET
        else:
            train_loss = self.train_loss

        val_loss: float | None | Unset
        if isinstance(self.val_loss, Unset):
            val_loss = UNSET
        else:
            val_loss = self.val_loss


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "epoch": epoch,
            "epochs": epochs,
        })
        if batch is not UNSET:
            field_dict["batch"] = batch
        if batches is not UNSET:
            field_dict["batches"] = batches
        if samples_per_s is not UNSET:
            field_dict["samples_per_s"] = samples_per_s
        if stage is not UNSET:
            field_dict["stage"] = stage
        if train_loss is not UNSET:
            field_dict["train_loss"] = train_loss
        if val_loss is not UNSET:
            field_dict["val_loss"] = val_loss

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        epoch = d.pop("epoch")

        epochs = d.pop("epochs")

        def _parse_batch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch = _parse_batch(d.pop("batch", UNSET))


        def _parse_batches(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batches = _parse_batches(d.pop("batches", UNSET))


        def _parse_samples_per_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        samples_per_s = _parse_samples_per_s(d.pop("samples_per_s", UNSET))


        def _parse_stage(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stage = _parse_stage(d.pop("stage", UNSET))


        def _parse_train_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        train_loss = _parse_train_loss(d.pop("train_loss", UNSET))


        def _parse_val_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        val_loss = _parse_val_loss(d.pop("val_loss", UNSET))


        job_progress = cls(
            epoch=epoch,
            epochs=epochs,
            batch=batch,
            batches=batches,
            samples_per_s=samples_per_s,
            stage=stage,
            train_loss=train_loss,
            val_loss=val_loss,
        )


        job_progress.additional_properties = d
        return job_progress

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
