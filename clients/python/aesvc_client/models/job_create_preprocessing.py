from enum import StrEnum

class JobCreatePreprocessing(StrEnum):
    MINMAX = "minmax"
    NONE = "none"
    STANDARDIZE = "standardize"

    def __str__(self) -> str:
        return str(self.value)
