from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.data_profile import DataProfile
  from ..models.feature_stats import FeatureStats





T = TypeVar("T", bound="DatasetPublic")



@_attrs_define
class DatasetPublic:
    """ 
        Attributes:
            builtin (bool):
            created_at (datetime.datetime):
            feature_names (list[str] | None): One name per feature, in column order; null in the basic view
            has_labels (bool):
            id (str):
            image_shape (list[int] | None):
            label_names (list[str] | None): The labels' distinct values, one per class (not per feature: both views carry
                them); null without labels
            n_features (int):
            n_rows (int):
            name (str):
            profile (DataProfile | None): What the `auto` spec fields are decided from (taken at upload; null for datasets
                uploaded before profiles existed).
            sha256 (str): sha256 of the float32 matrix as one .npy file (np.save's bytes); the rows are stored in chunks of
                a few MB, each checked on read
            size_bytes (int): Bytes stored (the chunks' .npy files)
            source_format (str):
            stats (FeatureStats | None): Per-feature mean, std, min and max (float64 moments of the float32 rows); null in
                the basic view
     """

    builtin: bool
    created_at: datetime.datetime
    feature_names: list[str] | None
    has_labels: bool
    id: str
    image_shape: list[int] | None
    label_names: list[str] | None
    n_features: int
    n_rows: int
    name: str
    profile: DataProfile | None
    sha256: str
    size_bytes: int
    source_format: str
    stats: FeatureStats | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.data_profile import DataProfile # noqa: PLC0415
        from ..models.feature_stats import FeatureStats # noqa: PLC0415
        builtin = self.builtin

        created_at = self.created_at.isoformat()

        feature_names: list[str] | None
        if isinstance(self.feature_names, list):
            feature_names = self.feature_names


        else:
            feature_names = self.feature_names

        has_labels = self.has_labels

        id = self.id

        image_shape: list[int] | None
        if isinstance(self.image_shape, list):
            image_shape = self.image_shape


        else:
            image_shape = self.image_shape

        label_names: list[str] | None
        if isinstance(self.label_names, list):
            label_names = self.label_names


        else:
            label_names = self.label_names

        n_features = self.n_features

        n_rows = self.n_rows

        name = self.name

        profile: dict[str, Any] | None
        if isinstance(self.profile, DataProfile):
            profile = self.profile.to_dict()
        else:
            profile = self.profile

        sha256 = self.sha256

        size_bytes = self.size_bytes

        source_format = self.source_format

        stats: dict[str, Any] | None
        if isinstance(self.stats, FeatureStats):
            stats = self.stats.to_dict()
        else:
            stats = self.stats


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "builtin": builtin,
            "created_at": created_at,
            "feature_names": feature_names,
            "has_labels": has_labels,
            "id": id,
            "image_shape": image_shape,
            "label_names": label_names,
            "n_features": n_features,
            "n_rows": n_rows,
            "name": name,
            "profile": profile,
            "sha256": sha256,
            "size_bytes": size_bytes,
            "source_format": source_format,
            "stats": stats,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.data_profile import DataProfile # noqa: PLC0415
        from ..models.feature_stats import FeatureStats # noqa: PLC0415
        d = dict(src_dict)
        builtin = d.pop("builtin")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_feature_names(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                feature_names_type_0 = cast(list[str], data)

                return feature_names_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        feature_names = _parse_feature_names(d.pop("feature_names"))


        has_labels = d.pop("has_labels")

        id = d.pop("id")

        def _parse_image_shape(data: object) -> list[int] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                image_shape_type_0 = cast(list[int], data)

                return image_shape_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None, data)

        image_shape = _parse_image_shape(d.pop("image_shape"))


        def _parse_label_names(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                label_names_type_0 = cast(list[str], data)

                return label_names_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        label_names = _parse_label_names(d.pop("label_names"))


        n_features = d.pop("n_features")

        n_rows = d.pop("n_rows")

        name = d.pop("name")

        def _parse_profile(data: object) -> DataProfile | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                profile_type_0 = DataProfile.from_dict(data)



                return profile_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DataProfile | None, data)

        profile = _parse_profile(d.pop("profile"))


        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        source_format = d.pop("source_format")

        def _parse_stats(data: object) -> FeatureStats | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                stats_type_0 = FeatureStats.from_dict(data)



                return stats_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FeatureStats | None, data)

        stats = _parse_stats(d.pop("stats"))


        dataset_public = cls(
            builtin=builtin,
            created_at=created_at,
            feature_names=feature_names,
            has_labels=has_labels,
            id=id,
            image_shape=image_shape,
            label_names=label_names,
            n_features=n_features,
            n_rows=n_rows,
            name=name,
            profile=profile,
            sha256=sha256,
            size_bytes=size_bytes,
            source_format=source_format,
            stats=stats,
        )


        dataset_public.additional_properties = d
        return dataset_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
