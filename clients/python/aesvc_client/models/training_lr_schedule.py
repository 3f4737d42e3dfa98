from enum import StrEnum

class TrainingLrSchedule(StrEnum):
    CONSTANT = "constant"
    COSINE = "cosine"
    PLATEAU = "plateau"

    def __str__(self) -> str:
        return str(self.value)
