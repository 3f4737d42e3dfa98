from enum import StrEnum

class SweepBasePreprocessing(StrEnum):
    AUTO = "auto"
    GLOBAL_MINMAX = "global_minmax"
    MINMAX = "minmax"
    NONE = "none"
    STANDARDIZE = "standardize"

    def __str__(self) -> str:
        return str(self.value)
