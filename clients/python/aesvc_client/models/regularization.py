from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.auto import Auto
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.denoising import Denoising
  from ..models.sparsity import Sparsity





T = TypeVar("T", bound="Regularization")



@_attrs_define
class Regularization:
    """ 
        Attributes:
            denoising (Auto | Denoising | None | Unset): Noise added to the inputs in training, in the units the network
                sees (after preprocessing). auto: gaussian_std 0.1 for dense and conv kinds (a regularizer), none for linear and
                variational kinds. Default: Auto.AUTO.
            kl_weight (float | Unset): Weight of the VAE latent loss (beta). Default: 1.0.
            sparsity (None | Sparsity | Unset):
            weight_decay (Auto | float | Unset): L2 penalty on the weights. auto: more for small datasets (see the version's
                spec). Default: Auto.AUTO.
     """

    denoising: Auto | Denoising | None | Unset = Auto.AUTO
    kl_weight: float | Unset = 1.0
    sparsity: None | Sparsity | Unset = UNSET
    weight_decay: Auto | float | Unset = Auto.AUTO





    def to_dict(self) -> dict[str, Any]:
        from ..models.denoising import Denoising # noqa: PLC0415
        from ..models.sparsity import Sparsity # noqa: PLC0415
        denoising: dict[str, Any] | None | str | Unset
        if isinstance(self.denoising, Unset):
            denoising = UNSET
        elif isinstance(self.denoising, Denoising):
            denoising = self.denoising.to_dict()
        elif isinstance(self.denoising, Auto):
            denoising = self.denoising.value
        else:
            denoising = self.denoising

        kl_weight = self.kl_weight

        sparsity: dict[str, Any] | None | Unset
        if isinstance(self.sparsity, Unset):
            sparsity = UNSET
        elif isinstance(self.sparsity, Sparsity):
            sparsity = self.sparsity.to_dict()
        else:
            sparsity = self.sparsity

        weight_decay: float | str | Unset
        if isinstance(self.weight_decay, Unset):
            weight_decay = UNSET
        elif isinstance(self.weight_decay, Auto):
            weight_decay = self.weight_decay.value
        else:
            weight_decay = self.weight_decay


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if denoising is not UNSET:
            field_dict["denoising"] = denoising
        if kl_weight is not UNSET:
            field_dict["kl_weight"] = kl_weight
        if sparsity is not UNSET:
            field_dict["sparsity"] = sparsity
        if weight_decay is not UNSET:
            field_dict["weight_decay"] = weight_decay

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.denoising import Denoising # noqa: PLC0415
        from ..models.sparsity import Sparsity # noqa: PLC0415
        d = dict(src_dict)
        def _parse_denoising(data: object) -> Auto | Denoising | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                denoising_type_0 = Denoising.from_dict(data)



                return denoising_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                denoising_type_1 = Auto(data)



                return denoising_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Auto | Denoising | None | Unset, data)

        denoising = _parse_denoising(d.pop("denoising", UNSET))


        kl_weight = d.pop("kl_weight", UNSET)

        def _parse_sparsity(data: object) -> None | Sparsity | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sparsity_type_0 = Sparsity.from_dict(data)



                return sparsity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Sparsity | Unset, data)

        sparsity = _parse_sparsity(d.pop("sparsity", UNSET))


        def _parse_weight_decay(data: object) -> Auto | float | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                weight_decay_type_1 = Auto(data)



                return weight_decay_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Auto | float | Unset, data)

        weight_decay = _parse_weight_decay(d.pop("weight_decay", UNSET))


        regularization = cls(
            denoising=denoising,
            kl_weight=kl_weight,
            sparsity=sparsity,
            weight_decay=weight_decay,
        )

        return regularization

