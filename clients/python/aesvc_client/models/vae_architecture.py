from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.auto import Auto
from ..models.vae_architecture_activation import VaeArchitectureActivation
from ..models.vae_architecture_output_activation import VaeArchitectureOutputActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="VaeArchitecture")



@_attrs_define
class VaeArchitecture:
    """ A variational autoencoder: dense layers under a Gaussian coding (mean, log-variance).

        Attributes:
            code_size (int): Size of the coding layer.
            kind (Literal['vae']):
            activation (VaeArchitectureActivation | Unset):  Default: VaeArchitectureActivation.ELU.
            hidden_sizes (Auto | list[int] | Unset): Dense layers between input and coding. auto: sized from the dataset's
                features and rows (see the version's spec).
            output_activation (VaeArchitectureOutputActivation | Unset): auto: sigmoid when the preprocessed data lie in [0,
                1] (minmax, global_minmax), else linear. clip: linear inside [0, 1], clipped outside (what a second training on
                a linear path gets where auto meant sigmoid). Default: VaeArchitectureOutputActivation.AUTO.
     """

    code_size: int
    kind: Literal['vae']
    activation: VaeArchitectureActivation | Unset = VaeArchitectureActivation.ELU
    hidden_sizes: Auto | list[int] | Unset = UNSET
    output_activation: VaeArchitectureOutputActivation | Unset = VaeArchitectureOutputActivation.AUTO





    def to_dict(self) -> dict[str, Any]:
        code_size = self.code_size

        kind = self.kind

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        hidden_sizes: list[int] | str | Unset
        if isinstance(self.hidden_sizes, Unset):
            hidden_sizes = UNSET
        elif isinstance(self.hidden_sizes, list):
            hidden_sizes = self.hidden_sizes


        else:
            hidden_sizes = self.hidden_sizes.value


        output_activation: str | Unset = UNSET
        if not isinstance(self.output_activation, Unset):
            output_activation = self.output_activation.value



        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code_size": code_size,
            "kind": kind,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if hidden_sizes is not UNSET:
            field_dict["hidden_sizes"] = hidden_sizes
        if output_activation is not UNSET:
            field_dict["output_activation"] = output_activation

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code_size = d.pop("code_size")

        kind = cast(Literal['vae'] , d.pop("kind"))
        if kind != 'vae':
            raise ValueError(f"kind must match const 'vae', got '{kind}'")

        _activation = d.pop("activation", UNSET)
        activation: VaeArchitectureActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = VaeArchitectureActivation(_activation)




        def _parse_hidden_sizes(data: object) -> Auto | list[int] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hidden_sizes_type_0 = cast(list[int], data)

                return hidden_sizes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            hidden_sizes_type_1 = Auto(data)



            return hidden_sizes_type_1

        hidden_sizes = _parse_hidden_sizes(d.pop("hidden_sizes", UNSET))


        _output_activation = d.pop("output_activation", UNSET)
        output_activation: VaeArchitectureOutputActivation | Unset
        if isinstance(_output_activation,  Unset):
            output_activation = UNSET
        else:
            output_activation = VaeArchitectureOutputActivation(_output_activation)




        vae_architecture = cls(
            code_size=code_size,
            kind=kind,
            activation=activation,
            hidden_sizes=hidden_sizes,
            output_activation=output_activation,
        )

        return vae_architecture

