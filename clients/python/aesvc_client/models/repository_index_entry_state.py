from enum import StrEnum

class RepositoryIndexEntryState(StrEnum):
    READY = "READY"
    UNAVAILABLE = "UNAVAILABLE"

    def __str__(self) -> str:
        return str(self.value)
