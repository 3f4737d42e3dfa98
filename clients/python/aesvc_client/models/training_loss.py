from enum import StrEnum

class TrainingLoss(StrEnum):
    AUTO = "auto"
    BCE = "bce"
    MSE = "mse"

    def __str__(self) -> str:
        return str(self.value)
