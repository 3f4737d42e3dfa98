from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.auto import Auto
from ..models.dense_architecture_activation import DenseArchitectureActivation
from ..models.dense_architecture_output_activation import DenseArchitectureOutputActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="DenseArchitecture")



@_attrs_define
class DenseArchitecture:
    """ Stacked dense layers; the default kind.

        Attributes:
            code_size (int): Size of the coding layer.
            kind (Literal['dense']):
            activation (DenseArchitectureActivation | Unset):  Default: DenseArchitectureActivation.ELU.
            hidden_sizes (Auto | list[int] | Unset): Dense layers between input and coding. auto: sized from the dataset's
                features and rows (see the version's spec).
            linear_path (Auto | bool | Unset): A linear encoder and decoder beside the layers, fixed at PCA's solution in
                the data's units, the layers' outputs added to theirs; its loss is in the data's units. auto: off, and for
                linear codings, untied weights, end-to-end training and an output that is linear or auto (then linear), trained
                again with one where the first model's validation error in the data's units is above PCA's. Default: Auto.AUTO.
            output_activation (DenseArchitectureOutputActivation | Unset): auto: sigmoid when the preprocessed data lie in
                [0, 1] (minmax, global_minmax), else linear. clip: linear inside [0, 1], clipped outside (what a second training
                on a linear path gets where auto meant sigmoid). Default: DenseArchitectureOutputActivation.AUTO.
            tied_weights (bool | Unset): Decoder reuses the transposed encoder weights. Default: False.
     """

    code_size: int
    kind: Literal['dense']
    activation: DenseArchitectureActivation | Unset = DenseArchitectureActivation.ELU
    hidden_sizes: Auto | list[int] | Unset = UNSET
    linear_path: Auto | bool | Unset = Auto.AUTO
    output_activation: DenseArchitectureOutputActivation | Unset = DenseArchitectureOutputActivation.AUTO
    tied_weights: bool | Unset = False





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


        linear_path: bool | str | Unset
        if isinstance(self.linear_path, Unset):
            linear_path = UNSET
        elif isinstance(self.linear_path, Auto):
            linear_path = self.linear_path.value
        else:
            linear_path = self.linear_path

        output_activation: str | Unset = UNSET
        if not isinstance(self.output_activation, Unset):
            output_activation = self.output_activation.value


        tied_weights = self.tied_weights


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code_size": code_size,
            "kind": kind,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if hidden_sizes is not UNSET:
            field_dict["hidden_sizes"] = hidden_sizes
        if linear_path is not UNSET:
            field_dict["linear_path"] = linear_path
        if output_activation is not UNSET:
            field_dict["output_activation"] = output_activation
        if tied_weights is not UNSET:
            field_dict["tied_weights"] = tied_weights

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code_size = d.pop("code_size")

        kind = cast(Literal['dense'] , d.pop("kind"))
        if kind != 'dense':
            raise ValueError(f"kind must match const 'dense', got '{kind}'")

        _activation = d.pop("activation", UNSET)
        activation: DenseArchitectureActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = DenseArchitectureActivation(_activation)




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


        def _parse_linear_path(data: object) -> Auto | bool | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                linear_path_type_1 = Auto(data)



                return linear_path_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Auto | bool | Unset, data)

        linear_path = _parse_linear_path(d.pop("linear_path", UNSET))


        _output_activation = d.pop("output_activation", UNSET)
        output_activation: DenseArchitectureOutputActivation | Unset
        if isinstance(_output_activation,  Unset):
            output_activation = UNSET
        else:
            output_activation = DenseArchitectureOutputActivation(_output_activation)




        tied_weights = d.pop("tied_weights", UNSET)

        dense_architecture = cls(
            code_size=code_size,
            kind=kind,
            activation=activation,
            hidden_sizes=hidden_sizes,
            linear_path=linear_path,
            output_activation=output_activation,
            tied_weights=tied_weights,
        )

        return dense_architecture

