from enum import StrEnum

class TrainingStrategy(StrEnum):
    END_TO_END = "end_to_end"
    LAYERWISE = "layerwise"

    def __str__(self) -> str:
        return str(self.value)
