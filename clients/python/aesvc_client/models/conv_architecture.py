from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.conv_architecture_activation import ConvArchitectureActivation
from ..models.conv_architecture_output_activation import ConvArchitectureOutputActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="ConvArchitecture")



@_attrs_define
class ConvArchitecture:
    """ Stride-2 convolutions on image rows (the dataset needs an image_shape).

        Attributes:
            code_size (int): Size of the coding layer.
            kind (Literal['conv']):
            activation (ConvArchitectureActivation | Unset):  Default: ConvArchitectureActivation.ELU.
            conv_channels (list[int] | Unset): Channels of the conv encoder's stride-2 layers.
            output_activation (ConvArchitectureOutputActivation | Unset): auto: sigmoid when the preprocessed data lie in
                [0, 1] (minmax, global_minmax), else linear. clip: linear inside [0, 1], clipped outside (what a second training
                on a linear path gets where auto meant sigmoid). Default: ConvArchitectureOutputActivation.AUTO.
     """

    code_size: int
    kind: Literal['conv']
    activation: ConvArchitectureActivation | Unset = ConvArchitectureActivation.ELU
    conv_channels: list[int] | Unset = UNSET
    output_activation: ConvArchitectureOutputActivation | Unset = ConvArchitectureOutputActivation.AUTO





    def to_dict(self) -> dict[str, Any]:
        code_size = self.code_size

        kind = self.kind

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        conv_channels: list[int] | Unset = UNSET
        if not isinstance(self.conv_channels, Unset):
            conv_channels = self.conv_channels



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
        if conv_channels is not UNSET:
            field_dict["conv_channels"] = conv_channels
        if output_activation is not UNSET:
            field_dict["output_activation"] = output_activation

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code_size = d.pop("code_size")

        kind = cast(Literal['conv'] , d.pop("kind"))
        if kind != 'conv':
            raise ValueError(f"kind must match const 'conv', got '{kind}'")

        _activation = d.pop("activation", UNSET)
        activation: ConvArchitectureActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = ConvArchitectureActivation(_activation)




        conv_channels = cast(list[int], d.pop("conv_channels", UNSET))


        _output_activation = d.pop("output_activation", UNSET)
        output_activation: ConvArchitectureOutputActivation | Unset
        if isinstance(_output_activation,  Unset):
            output_activation = UNSET
        else:
            output_activation = ConvArchitectureOutputActivation(_output_activation)




        conv_architecture = cls(
            code_size=code_size,
            kind=kind,
            activation=activation,
            conv_channels=conv_channels,
            output_activation=output_activation,
        )

        return conv_architecture

