from enum import StrEnum

class GenerateResponseMethod(StrEnum):
    FITTED_GAUSSIAN = "fitted_gaussian"
    PRIOR = "prior"

    def __str__(self) -> str:
        return str(self.value)
