from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.auto import Auto
from ..models.training_device import TrainingDevice
from ..models.training_loss import TrainingLoss
from ..models.training_lr_schedule import TrainingLrSchedule
from ..models.training_optimizer import TrainingOptimizer
from ..models.training_strategy import TrainingStrategy
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Training")



@_attrs_define
class Training:
    """ 
        Attributes:
            batch_size (Auto | int | Unset): auto: 32 below 10,000 rows, else 256. Default: Auto.AUTO.
            bf16_autocast (bool | Unset): CUDA only: bf16 autocast. Default: False.
            contamination (float | Unset): Share of outliers expected among the training rows: the anomaly threshold leaves
                this share of the rows the model was fitted on above it, and the score's coding statistics may leave out that
                share of outlying rows (at least 10 %). Default: 0.05.
            device (TrainingDevice | Unset):  Default: TrainingDevice.AUTO.
            early_stopping_patience (Auto | int | None | Unset): Epochs without a better validation loss before training
                stops (null: never). auto: 30 for variational kinds (their samples keep sharpening while the loss creeps down),
                else 10. Default: Auto.AUTO.
            epochs (int | Unset):  Default: 100.
            gpus (int | None | Unset): GPUs a Ray job asks for; default 1 where the cluster has GPUs, else 0.
            gradient_clip_norm (float | None | Unset):  Default: 5.0.
            learning_rate (float | Unset):  Default: 0.003.
            loss (TrainingLoss | Unset): auto: bce for a variational model of data in [0, 1] after preprocessing, else mse.
                Default: TrainingLoss.AUTO.
            lr_schedule (TrainingLrSchedule | Unset):  Default: TrainingLrSchedule.COSINE.
            max_attempts (int | Unset):  Default: 3.
            optimizer (TrainingOptimizer | Unset):  Default: TrainingOptimizer.ADAMW.
            seed (int | Unset):  Default: 0.
            strategy (TrainingStrategy | Unset):  Default: TrainingStrategy.END_TO_END.
            validation_fraction (float | Unset):  Default: 0.2.
     """

    batch_size: Auto | int | Unset = Auto.AUTO
    bf16_autocast: bool | Unset = False
    contamination: float | Unset = 0.05
    device: TrainingDevice | Unset = TrainingDevice.AUTO
    early_stopping_patience: Auto | int | None | Unset = Auto.AUTO
    epochs: int | Unset = 100
    gpus: int | None | Unset = UNSET
    gradient_clip_norm: float | None | Unset = 5.0
    learning_rate: float | Unset = 0.003
    loss: TrainingLoss | Unset = TrainingLoss.AUTO
    lr_schedule: TrainingLrSchedule | Unset = TrainingLrSchedule.COSINE
    max_attempts: int | Unset = 3
    optimizer: TrainingOptimizer | Unset = TrainingOptimizer.ADAMW
    seed: int | Unset = 0
    strategy: TrainingStrategy | Unset = TrainingStrategy.END_TO_END
    validation_fraction: float | Unset = 0.2





    def to_dict(self) -> dict[str, Any]:
        batch_size: int | str | Unset
        if isinstance(self.batch_size, Unset):
            batch_size = UNSET
        elif isinstance(self.batch_size, Auto):
            batch_size = self.batch_size.value
        else:
            batch_size = self.batch_size

        bf16_autocast = self.bf16_autocast

        contamination = self.contamination

        device: str | Unset = UNSET
        if not isinstance(self.device, Unset):
            device = self.device.value


        early_stopping_patience: int | None | str | Unset
        if isinstance(self.early_stopping_patience, Unset):
            early_stopping_patience = UNSET
        elif isinstance(self.early_stopping_patience, Auto):
            early_stopping_patience = self.early_stopping_patience.value
        else:
            early_stopping_patience = self.early_stopping_patience

        epochs = self.epochs

        gpus: int | None | Unset
        if isinstance(self.gpus, Unset):
            gpus = UNSET
        else:
            gpus = self.gpus

        gradient_clip_norm: float | None | Unset
        if isinstance(self.gradient_clip_norm, Unset):
            gradient_clip_norm = UNSET
        else:
            gradient_clip_norm = self.gradient_clip_norm

        learning_rate = self.learning_rate

        loss: str | Unset = UNSET
        if not isinstance(self.loss, Unset):
            loss = self.loss.value


        lr_schedule: str | Unset = UNSET
        if not isinstance(self.lr_schedule, Unset):
            lr_schedule = self.lr_schedule.value


        max_attempts = self.max_attempts

        optimizer: str | Unset = UNSET
        if not isinstance(self.optimizer, Unset):
            optimizer = self.optimizer.value


        seed = self.seed

        strategy: str | Unset = UNSET
        if not isinstance(self.strategy, Unset):
            strategy = self.strategy.value


        validation_fraction = self.validation_fraction


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if bf16_autocast is not UNSET:
            field_dict["bf16_autocast"] = bf16_autocast
        if contamination is not UNSET:
            field_dict["contamination"] = contamination
        if device is not UNSET:
            field_dict["device"] = device
        if early_stopping_patience is not UNSET:
            field_dict["early_stopping_patience"] = early_stopping_patience
        if epochs is not UNSET:
            field_dict["epochs"] = epochs
        if gpus is not UNSET:
            field_dict["gpus"] = gpus
        if gradient_clip_norm is not UNSET:
            field_dict["gradient_clip_norm"] = gradient_clip_norm
        if learning_rate is not UNSET:
            field_dict["learning_rate"] = learning_rate
        if loss is not UNSET:
            field_dict["loss"] = loss
        if lr_schedule is not UNSET:
            field_dict["lr_schedule"] = lr_schedule
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if optimizer is not UNSET:
            field_dict["optimizer"] = optimizer
        if seed is not UNSET:
            field_dict["seed"] = seed
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if validation_fraction is not UNSET:
            field_dict["validation_fraction"] = validation_fraction

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_batch_size(data: object) -> Auto | int | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                batch_size_type_1 = Auto(data)



                return batch_size_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Auto | int | Unset, data)

        batch_size = _parse_batch_size(d.pop("batch_size", UNSET))


        bf16_autocast = d.pop("bf16_autocast", UNSET)

        contamination = d.pop("contamination", UNSET)

        _device = d.pop("device", UNSET)
        device: TrainingDevice | Unset
        if isinstance(_device,  Unset):
            device = UNSET
        else:
            device = TrainingDevice(_device)




        def _parse_early_stopping_patience(data: object) -> Auto | int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                early_stopping_patience_type_1 = Auto(data)



                return early_stopping_patience_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Auto | int | None | Unset, data)

        early_stopping_patience = _parse_early_stopping_patience(d.pop("early_stopping_patience", UNSET))


        epochs = d.pop("epochs", UNSET)

        def _parse_gpus(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        gpus = _parse_gpus(d.pop("gpus", UNSET))


        def _parse_gradient_clip_norm(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        gradient_clip_norm = _parse_gradient_clip_norm(d.pop("gradient_clip_norm", UNSET))


        learning_rate = d.pop("learning_rate", UNSET)

        _loss = d.pop("loss", UNSET)
        loss: TrainingLoss | Unset
        if isinstance(_loss,  Unset):
            loss = UNSET
        else:
            loss = TrainingLoss(_loss)




        _lr_schedule = d.pop("lr_schedule", UNSET)
        lr_schedule: TrainingLrSchedule | Unset
        if isinstance(_lr_schedule,  Unset):
            lr_schedule = UNSET
        else:
            lr_schedule = TrainingLrSchedule(_lr_schedule)




        max_attempts = d.pop("max_attempts", UNSET)

        _optimizer = d.pop("optimizer", UNSET)
        optimizer: TrainingOptimizer | Unset
        if isinstance(_optimizer,  Unset):
            optimizer = UNSET
        else:
            optimizer = TrainingOptimizer(_optimizer)




        seed = d.pop("seed", UNSET)

        _strategy = d.pop("strategy", UNSET)
        strategy: TrainingStrategy | Unset
        if isinstance(_strategy,  Unset):
            strategy = UNSET
        else:
            strategy = TrainingStrategy(_strategy)




        validation_fraction = d.pop("validation_fraction", UNSET)

        training = cls(
            batch_size=batch_size,
            bf16_autocast=bf16_autocast,
            contamination=contamination,
            device=device,
            early_stopping_patience=early_stopping_patience,
            epochs=epochs,
            gpus=gpus,
            gradient_clip_norm=gradient_clip_norm,
            learning_rate=learning_rate,
            loss=loss,
            lr_schedule=lr_schedule,
            max_attempts=max_attempts,
            optimizer=optimizer,
            seed=seed,
            strategy=strategy,
            validation_fraction=validation_fraction,
        )

        return training

