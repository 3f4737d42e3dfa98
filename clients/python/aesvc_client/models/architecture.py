from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.architecture_activation import ArchitectureActivation
from ..models.architecture_kind import ArchitectureKind
from ..models.architecture_output_activation import ArchitectureOutputActivation
from ..models.auto import Auto
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Architecture")



@_attrs_define
class Architecture:
    """ 
        Attributes:
            code_size (int): Size of the coding layer.
            activation (ArchitectureActivation | Unset):  Default: ArchitectureActivation.ELU.
            conv_channels (list[int] | Unset): Channels of the conv encoder's stride-2 layers (conv, conv_vae).
            hidden_sizes (Auto | list[int] | Unset): Dense layers between input and coding (dense, vae; ignored by linear).
                auto: sized from the dataset's features and rows (see the version's spec).
            kind (ArchitectureKind | Unset):  Default: ArchitectureKind.DENSE.
            output_activation (ArchitectureOutputActivation | Unset): auto: sigmoid when the preprocessed data lie in [0, 1]
                (minmax, global_minmax), else linear. Default: ArchitectureOutputActivation.AUTO.
            tied_weights (bool | Unset): Decoder reuses the transposed encoder weights (dense only). Default: False.
     """

    code_size: int
    activation: ArchitectureActivation | Unset = ArchitectureActivation.ELU
    conv_channels: list[int] | Unset = UNSET
    hidden_sizes: Auto | list[int] | Unset = UNSET
    kind: ArchitectureKind | Unset = ArchitectureKind.DENSE
    output_activation: ArchitectureOutputActivation | Unset = ArchitectureOutputActivation.AUTO
    tied_weights: bool | Unset = False





    def to_dict(self) -> dict[str, Any]:
        code_size = self.code_size

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        conv_channels: list[int] | Unset = UNSET
        if not isinstance(self.conv_channels, Unset):
            conv_channels = self.conv_channels



        hidden_sizes: list[int] | str | Unset
        if isinstance(self.hidden_sizes, Unset):
            hidden_sizes = UNSET
        elif isinstance(self.hidden_sizes, list):
            hidden_sizes = self.hidden_sizes


        else:
            hidden_sizes = self.hidden_sizes.value


        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value


        output_activation: str | Unset = UNSET
        if not isinstance(self.output_activation, Unset):
            output_activation = self.output_activation.value


        tied_weights = self.tied_weights


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code_size": code_size,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if conv_channels is not UNSET:
            field_dict["conv_channels"] = conv_channels
        if hidden_sizes is not UNSET:
            field_dict["hidden_sizes"] = hidden_sizes
        if kind is not UNSET:
            field_dict["kind"] = kind
        if output_activation is not UNSET:
            field_dict["output_activation"] = output_activation
        if tied_weights is not UNSET:
            field_dict["tied_weights"] = tied_weights

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code_size = d.pop("code_size")

        _activation = d.pop("activation", UNSET)
        activation: ArchitectureActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = ArchitectureActivation(_activation)




        conv_channels = cast(list[int], d.pop("conv_channels", UNSET))


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


        _kind = d.pop("kind", UNSET)
        kind: ArchitectureKind | Unset
        if isinstance(_kind,  Unset):
            kind = UNSET
        else:
            kind = ArchitectureKind(_kind)




        _output_activation = d.pop("output_activation", UNSET)
        output_activation: ArchitectureOutputActivation | Unset
        if isinstance(_output_activation,  Unset):
            output_activation = UNSET
        else:
            output_activation = ArchitectureOutputActivation(_output_activation)




        tied_weights = d.pop("tied_weights", UNSET)

        architecture = cls(
            code_size=code_size,
            activation=activation,
            conv_channels=conv_channels,
            hidden_sizes=hidden_sizes,
            kind=kind,
            output_activation=output_activation,
            tied_weights=tied_weights,
        )

        return architecture

