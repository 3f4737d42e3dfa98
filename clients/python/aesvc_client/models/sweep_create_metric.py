from enum import StrEnum

class SweepCreateMetric(StrEnum):
    AUROC = "auroc"
    VAL_MSE = "val_mse"

    def __str__(self) -> str:
        return str(self.value)
