from enum import StrEnum

class SweepSummaryMetric(StrEnum):
    AUROC = "auroc"
    VAL_MSE = "val_mse"

    def __str__(self) -> str:
        return str(self.value)
