from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.conv_vae_architecture_activation import ConvVaeArchitectureActivation
from ..models.conv_vae_architecture_output_activation import ConvVaeArchitectureOutputActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="ConvVaeArchitecture")



@_attrs_define
class ConvVaeArchitecture:
    """ A convolutional encoder under a Gaussian coding, a transposed-convolution decoder.

        Attributes:
            code_size (int): Size of the coding layer.
            kind (Literal['conv_vae']):
            activation (ConvVaeArchitectureActivation | Unset):  Default: ConvVaeArchitectureActivation.ELU.
            conv_channels (list[int] | Unset): Channels of the conv encoder's stride-2 layers.
            output_activation (ConvVaeArchitectureOutputActivation | Unset): auto: sigmoid when the preprocessed data lie in
                [0, 1] (minmax, global_minmax), else linear. clip: linear inside [0, 1], clipped outside (what a second training
                on a linear path gets where auto meant sigmoid). Default: ConvVaeArchitectureOutputActivation.AUTO.
     """

    code_size: int
    kind: Literal['conv_vae']
    activation: ConvVaeArchitectureActivation | Unset = ConvVaeArchitectureActivation.ELU
    conv_channels: list[int] | Unset = UNSET
    output_activation: ConvVaeArchitectureOutputActivation | Unset = ConvVaeArchitectureOutputActivation.AUTO





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

        kind = cast(Literal['conv_vae'] , d.pop("kind"))
        if kind != 'conv_vae':
            raise ValueError(f"kind must match const 'conv_vae', got '{kind}'")

        _activation = d.pop("activation", UNSET)
        activation: ConvVaeArchitectureActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = ConvVaeArchitectureActivation(_activation)




        conv_channels = cast(list[int], d.pop("conv_channels", UNSET))


        _output_activation = d.pop("output_activation", UNSET)
        output_activation: ConvVaeArchitectureOutputActivation | Unset
        if isinstance(_output_activation,  Unset):
            output_activation = UNSET
        else:
            output_activation = ConvVaeArchitectureOutputActivation(_output_activation)




        conv_vae_architecture = cls(
            code_size=code_size,
            kind=kind,
            activation=activation,
            conv_channels=conv_channels,
            output_activation=output_activation,
        )

        return conv_vae_architecture

