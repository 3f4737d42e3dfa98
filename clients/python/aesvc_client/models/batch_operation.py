from enum import StrEnum

class BatchOperation(StrEnum):
    ENCODE = "encode"
    RECONSTRUCT = "reconstruct"
    SCORE = "score"

    def __str__(self) -> str:
        return str(self.value)
