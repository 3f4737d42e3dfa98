from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_create_preprocessing import JobCreatePreprocessing
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.architecture import Architecture
  from ..models.regularization import Regularization
  from ..models.training import Training





T = TypeVar("T", bound="JobCreate")



@_attrs_define
class JobCreate:
    """ A training job: which data, which autoencoder, how to train it.

        Attributes:
            architecture (Architecture):
            dataset (str): Dataset id or name.
            model_name (str): Model to add a version to.
            preprocessing (JobCreatePreprocessing | Unset):  Default: JobCreatePreprocessing.AUTO.
            priority (int | Unset): Higher runs first. Default: 0.
            regularization (Regularization | Unset):
            training (Training | Unset):
     """

    architecture: Architecture
    dataset: str
    model_name: str
    preprocessing: JobCreatePreprocessing | Unset = JobCreatePreprocessing.AUTO
    priority: int | Unset = 0
    regularization: Regularization | Unset = UNSET
    training: Training | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.architecture import Architecture # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        architecture = self.architecture.to_dict()

        dataset = self.dataset

        model_name = self.model_name

        preprocessing: str | Unset = UNSET
        if not isinstance(self.preprocessing, Unset):
            preprocessing = self.preprocessing.value


        priority = self.priority

        regularization: dict[str, Any] | Unset = UNSET
        if not isinstance(self.regularization, Unset):
            regularization = self.regularization.to_dict()

        training: dict[str, Any] | Unset = UNSET
        if not isinstance(self.training, Unset):
            training = self.training.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "architecture": architecture,
            "dataset": dataset,
            "model_name": model_name,
        })
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing
        if priority is not UNSET:
            field_dict["priority"] = priority
        if regularization is not UNSET:
            field_dict["regularization"] = regularization
        if training is not UNSET:
            field_dict["training"] = training

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.architecture import Architecture # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        d = dict(src_dict)
        architecture = Architecture.from_dict(d.pop("architecture"))




        dataset = d.pop("dataset")

        model_name = d.pop("model_name")

        _preprocessing = d.pop("preprocessing", UNSET)
        preprocessing: JobCreatePreprocessing | Unset
        if isinstance(_preprocessing,  Unset):
            preprocessing = UNSET
        else:
            preprocessing = JobCreatePreprocessing(_preprocessing)




        priority = d.pop("priority", UNSET)

        _regularization = d.pop("regularization", UNSET)
        regularization: Regularization | Unset
        if isinstance(_regularization,  Unset):
            regularization = UNSET
        else:
            regularization = Regularization.from_dict(_regularization)




        _training = d.pop("training", UNSET)
        training: Training | Unset
        if isinstance(_training,  Unset):
            training = UNSET
        else:
            training = Training.from_dict(_training)




        job_create = cls(
            architecture=architecture,
            dataset=dataset,
            model_name=model_name,
            preprocessing=preprocessing,
            priority=priority,
            regularization=regularization,
            training=training,
        )

        return job_create

