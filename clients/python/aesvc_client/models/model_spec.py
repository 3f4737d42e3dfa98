from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.model_spec_preprocessing import ModelSpecPreprocessing
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.architecture import Architecture
  from ..models.regularization import Regularization
  from ..models.training import Training





T = TypeVar("T", bound="ModelSpec")



@_attrs_define
class ModelSpec:
    """ Everything needed to rebuild and retrain a model, apart from its data.

        Attributes:
            architecture (Architecture):
            preprocessing (ModelSpecPreprocessing | Unset): auto: none for kind linear (PCA in the data's units);
                global_minmax for images and data that share one bounded range; standardize otherwise. Default:
                ModelSpecPreprocessing.AUTO.
            regularization (Regularization | Unset):
            training (Training | Unset):
     """

    architecture: Architecture
    preprocessing: ModelSpecPreprocessing | Unset = ModelSpecPreprocessing.AUTO
    regularization: Regularization | Unset = UNSET
    training: Training | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.architecture import Architecture # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        architecture = self.architecture.to_dict()

        preprocessing: str | Unset = UNSET
        if not isinstance(self.preprocessing, Unset):
            preprocessing = self.preprocessing.value


        regularization: dict[str, Any] | Unset = UNSET
        if not isinstance(self.regularization, Unset):
            regularization = self.regularization.to_dict()

        training: dict[str, Any] | Unset = UNSET
        if not isinstance(self.training, Unset):
            training = self.training.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "architecture": architecture,
        })
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing
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




        _preprocessing = d.pop("preprocessing", UNSET)
        preprocessing: ModelSpecPreprocessing | Unset
        if isinstance(_preprocessing,  Unset):
            preprocessing = UNSET
        else:
            preprocessing = ModelSpecPreprocessing(_preprocessing)




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




        model_spec = cls(
            architecture=architecture,
            preprocessing=preprocessing,
            regularization=regularization,
            training=training,
        )

        return model_spec

