from enum import StrEnum

class ModelSpecPreprocessing(StrEnum):
    MINMAX = "minmax"
    NONE = "none"
    STANDARDIZE = "standardize"

    def __str__(self) -> str:
        return str(self.value)
