from enum import StrEnum

class ModelVersionPublicStatus(StrEnum):
    ARCHIVED = "archived"
    READY = "ready"

    def __str__(self) -> str:
        return str(self.value)
