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
  from ..models.conv_architecture import ConvArchitecture
  from ..models.conv_vae_architecture import ConvVaeArchitecture
  from ..models.dense_architecture import DenseArchitecture
  from ..models.linear_architecture import LinearArchitecture
  from ..models.regularization import Regularization
  from ..models.training import Training
  from ..models.vae_architecture import VaeArchitecture





T = TypeVar("T", bound="ModelSpec")



@_attrs_define
class ModelSpec:
    """ Everything needed to rebuild and retrain a model, apart from its data.

        Attributes:
            architecture (ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture |
                VaeArchitecture):
            preprocessing (ModelSpecPreprocessing | Unset): auto: none for kind linear (PCA in the data's units);
                global_minmax for images and data that share one bounded range; standardize otherwise. Default:
                ModelSpecPreprocessing.AUTO.
            regularization (Regularization | Unset):
            training (Training | Unset):
     """

    architecture: ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | VaeArchitecture
    preprocessing: ModelSpecPreprocessing | Unset = ModelSpecPreprocessing.AUTO
    regularization: Regularization | Unset = UNSET
    training: Training | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.conv_architecture import ConvArchitecture # noqa: PLC0415
        from ..models.conv_vae_architecture import ConvVaeArchitecture # noqa: PLC0415
        from ..models.dense_architecture import DenseArchitecture # noqa: PLC0415
        from ..models.linear_architecture import LinearArchitecture # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        from ..models.vae_architecture import VaeArchitecture # noqa: PLC0415
        architecture: dict[str, Any]
        if isinstance(self.architecture, LinearArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, DenseArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, VaeArchitecture):
            architecture = self.architecture.to_dict()
        elif isinstance(self.architecture, ConvArchitecture):
            architecture = self.architecture.to_dict()
        else:
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
        from ..models.conv_architecture import ConvArchitecture # noqa: PLC0415
        from ..models.conv_vae_architecture import ConvVaeArchitecture # noqa: PLC0415
        from ..models.dense_architecture import DenseArchitecture # noqa: PLC0415
        from ..models.linear_architecture import LinearArchitecture # noqa: PLC0415
        from ..models.regularization import Regularization # noqa: PLC0415
        from ..models.training import Training # noqa: PLC0415
        from ..models.vae_architecture import VaeArchitecture # noqa: PLC0415
        d = dict(src_dict)
        def _parse_architecture(data: object) -> ConvArchitecture | ConvVaeArchitecture | DenseArchitecture | LinearArchitecture | VaeArchitecture:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0 = LinearArchitecture.from_dict(data)



                return architecture_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_1 = DenseArchitecture.from_dict(data)



                return architecture_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_2 = VaeArchitecture.from_dict(data)



                return architecture_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_3 = ConvArchitecture.from_dict(data)



                return architecture_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            architecture_type_4 = ConvVaeArchitecture.from_dict(data)



            return architecture_type_4

        architecture = _parse_architecture(d.pop("architecture"))


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

