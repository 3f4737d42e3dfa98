from enum import StrEnum

class DatasetView(StrEnum):
    BASIC = "basic"
    FULL = "full"

    def __str__(self) -> str:
        return str(self.value)
