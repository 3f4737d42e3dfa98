from enum import StrEnum

class ExportModelVersionPart(StrEnum):
    DECODER = "decoder"
    ENCODER = "encoder"
    FULL = "full"

    def __str__(self) -> str:
        return str(self.value)
