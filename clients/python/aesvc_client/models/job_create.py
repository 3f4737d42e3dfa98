from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_create_preprocessing_type_0 import JobCreatePreprocessingType0
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.conv_architecture import ConvArchitecture
  from ..models.conv_vae_architecture import ConvVaeArchitecture
  from ..models.dense_architecture import DenseArchitecture
  from ..models.linear_architecture import LinearArchitecture
  from ..models.model_spec import ModelSpec
  from ..models.regularization import Regularization
  from ..models.training import Training
  from ..models.vae_architecture import VaeArchitecture





T = TypeVar("T", bound="JobCreate")



@_attrs_define
class JobCreate:
    """ A training job: which model, which data, and the version's spec (the same shape as a
    job's `spec` and a version's `spec`, so a spec read back can be sent again).

    0.x bodies (`model_name`, and `architecture` / `regularization` / `training` /
    `preprocessing` at the top level) are still accepted and marked deprecated in the
    schema; a body mixes neither shape with the other.

        Attributes:
            dataset (str): Dataset id or name.
            architecture (ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | None | Unset |
                VaeArchitecture): 0.x place of `spec.architecture`.
            model (None | str | Unset): Model to add a version to.
            model_name (None | str | Unset): 0.x name of `model`.
            preprocessing (JobCreatePreprocessingType0 | None | Unset): 0.x place of `spec.preprocessing`.
            priority (int | Unset): Higher runs first. Default: 0.
            regularization (None | Regularization | Unset): 0.x place of `spec.regularization`.
            spec (ModelSpec | None | Unset): The version's spec (required unless a 0.x body).
            training (None | Training | Unset): 0.x place of `spec.training`.
     """

    dataset: str
    architecture: ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | None | Unset | VaeArchitecture = UNSET
    model: None | str | Unset = UNSET
    model_name: None | str | Unset = UNSET
    preprocessing: JobCreatePreprocessingType0 | None | Unset = UNSET
    priority: int | Unset = 0
    regularization: None | Regularization | Unset = UNSET
    spec: ModelSpec | None | Unset = UNSET
    training: None | Training | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.conv_architecture import ConvArchitecture # noqa: PLC0415
        from ..models.conv_vae_architecture import ConvVaeArchitecture # noqa: PLC0415
        from ..models.dense_architecture import DenseArchitecture # noqa: PLC0415
        from ..models.linear_architecture import LinearArchitecture # noqa: PLC0415
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        from ..models.vae_architecture import VaeArchitecture # noqa: PLC0415
        dataset = self.dataset

        architecture: dict[str, Any] | None | Unset
        if isinstance(self.architecture, Unset):
            architecture = UNSET
        elif isinstance(self.architecture, LinearArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, DenseArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, VaeArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, ConvArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, ConvVaeArchitecture):
            architecture = self.architecture.to_dict()
        else:
            architecture = self.architecture

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        model_name: None | str | Unset
        if isinstance(self.model_name, Unset):
            model_name = UNSET
        else:
            model_name = self.model_name

        preprocessing: None | str | Unset
        if isinstance(self.preprocessing, Unset):
            preprocessing = UNSET
        elif isinstance(self.preprocessing, JobCreatePreprocessingType0):
            preprocessing = self.preprocessing.value
        else:
            preprocessing = self.preprocessing

        priority = self.priority

        regularization: dict[str, Any] | None | Unset
        if isinstance(self.regularization, Unset):
            regularization = UNSET
        elif isinstance(self.regularization, Regularization):
            regularization = self.regularization.to_dict()
        else:
            regularization = self.regularization

        spec: dict[str, Any] | None | Unset
        if isinstance(self.spec, Unset):
            spec = UNSET
        elif isinstance(self.spec, ModelSpec):
            spec = self.spec.to_dict()
        else:
            spec = self.spec

        training: dict[str, Any] | None | Unset
        if isinstance(self.training, Unset):
            training = UNSET
        elif isinstance(self.training, Training):
            training = self.training.to_dict()
        else:
            training = self.training


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "dataset": dataset,
        })
        if architecture is not UNSET:
            field_dict["architecture"] = architecture
        if model is not UNSET:
            field_dict["model"] = model
        if model_name is not UNSET:
            field_dict["model_name"] = model_name
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing
        if priority is not UNSET:
            field_dict["priority"] = priority
        if regularization is not UNSET:
            field_dict["regularization"] = regularization
        if spec is not UNSET:
            field_dict["spec"] = spec
        if training is not UNSET:
            field_dict["training"] = training

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.conv_architecture import ConvArchitecture # noqa: PLC0415
        from ..models.conv_vae_architecture import ConvVaeArchitecture # noqa: PLC0415
        from ..models.dense_architecture import DenseArchitecture # noqa: PLC0415
        from ..models.linear_architecture import LinearArchitecture # noqa: PLC0415
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        from ..models.vae_architecture import VaeArchitecture # noqa: PLC0415
        d = dict(src_dict)
        dataset = d.pop("dataset")

        def _parse_architecture(data: object) -> ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | None | Unset | VaeArchitecture:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0_type_0 = LinearArchitecture.from_dict(data)



                return architecture_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0_type_1 = DenseArchitecture.from_dict(data)



                return architecture_type_0_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0_type_2 = VaeArchitecture.from_dict(data)



                return architecture_type_0_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0_type_3 = ConvArchitecture.from_dict(data)



                return architecture_type_0_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0_type_4 = ConvVaeArchitecture.from_dict(data)



                return architecture_type_0_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | None | Unset | VaeArchitecture, data)

        architecture = _parse_architecture(d.pop("architecture", UNSET))


        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))


        def _parse_model_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model_name = _parse_model_name(d.pop("model_name", UNSET))


        def _parse_preprocessing(data: object) -> JobCreatePreprocessingType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                preprocessing_type_0 = JobCreatePreprocessingType0(data)



                return preprocessing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobCreatePreprocessingType0 | None | Unset, data)

        preprocessing = _parse_preprocessing(d.pop("preprocessing", UNSET))


        priority = d.pop("priority", UNSET)

        def _parse_regularization(data: object) -> None | Regularization | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                regularization_type_0 = Regularization.from_dict(data)



                return regularization_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Regularization | Unset, data)

        regularization = _parse_regularization(d.pop("regularization", UNSET))


        def _parse_spec(data: object) -> ModelSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                spec_type_0 = ModelSpec.from_dict(data)



                return spec_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ModelSpec | None | Unset, data)

        spec = _parse_spec(d.pop("spec", UNSET))


        def _parse_training(data: object) -> None | Training | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                training_type_0 = Training.from_dict(data)



                return training_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Training | Unset, data)

        training = _parse_training(d.pop("training", UNSET))


        job_create = cls(
            dataset=dataset,
            architecture=architecture,
            model=model,
            model_name=model_name,
            preprocessing=preprocessing,
            priority=priority,
            regularization=regularization,
            spec=spec,
            training=training,
        )

        return job_create

