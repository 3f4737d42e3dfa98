from enum import StrEnum

class TrialPublicStatusType1(StrEnum):
    INVALID = "invalid"
    PENDING = "pending"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str(self.value)
