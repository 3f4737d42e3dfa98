from enum import StrEnum

class SweepSummarySearch(StrEnum):
    GRID = "grid"
    RANDOM = "random"
    TPE = "tpe"

    def __str__(self) -> str:
        return str(self.value)
