from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.sweep_base_preprocessing import SweepBasePreprocessing
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.sweep_base_architecture import SweepBaseArchitecture
  from ..models.sweep_base_regularization import SweepBaseRegularization
  from ..models.sweep_base_training import SweepBaseTraining





T = TypeVar("T", bound="SweepBase")



@_attrs_define
class SweepBase:
    """ What every trial shares: a job's spec, without what the search sets (each part
    takes a job's fields and defaults; the grid or the space fills in the rest).

        Attributes:
            architecture (SweepBaseArchitecture | Unset):
            preprocessing (SweepBasePreprocessing | Unset):  Default: SweepBasePreprocessing.AUTO.
            regularization (SweepBaseRegularization | Unset):
            training (SweepBaseTraining | Unset):
     """

    architecture: SweepBaseArchitecture | Unset = UNSET
    preprocessing: SweepBasePreprocessing | Unset = SweepBasePreprocessing.AUTO
    regularization: SweepBaseRegularization | Unset = UNSET
    training: SweepBaseTraining | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.sweep_base_architecture import SweepBaseArchitecture # noqa: PLC0415
        from ..models.sweep_base_regularization import SweepBaseRegularization # noqa: PLC0415
        from ..models.sweep_base_training import SweepBaseTraining # noqa: PLC0415
        architecture: dict[str, Any] | Unset = UNSET
        if not isinstance(self.architecture, Unset):
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
        })
        if architecture is not UNSET:
            field_dict["architecture"] = architecture
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing
        if regularization is not UNSET:
            field_dict["regularization"] = regularization
        if training is not UNSET:
            field_dict["training"] = training

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sweep_base_architecture import SweepBaseArchitecture # noqa: PLC0415
        from ..models.sweep_base_regularization import SweepBaseRegularization # noqa: PLC0415
        from ..models.sweep_base_training import SweepBaseTraining # noqa: PLC0415
        d = dict(src_dict)
        _architecture = d.pop("architecture", UNSET)
        architecture: SweepBaseArchitecture | Unset
        if isinstance(_architecture,  Unset):
            architecture = UNSET
        else:
            architecture = SweepBaseArchitecture.from_dict(_architecture)




        _preprocessing = d.pop("preprocessing", UNSET)
        preprocessing: SweepBasePreprocessing | Unset
        if isinstance(_preprocessing,  Unset):
            preprocessing = UNSET
        else:
            preprocessing = SweepBasePreprocessing(_preprocessing)




        _regularization = d.pop("regularization", UNSET)
        regularization: SweepBaseRegularization | Unset
        if isinstance(_regularization,  Unset):
            regularization = UNSET
        else:
            regularization = SweepBaseRegularization.from_dict(_regularization)




        _training = d.pop("training", UNSET)
        training: SweepBaseTraining | Unset
        if isinstance(_training,  Unset):
            training = UNSET
        else:
            training = SweepBaseTraining.from_dict(_training)




        sweep_base = cls(
            architecture=architecture,
            preprocessing=preprocessing,
            regularization=regularization,
            training=training,
        )

        return sweep_base

