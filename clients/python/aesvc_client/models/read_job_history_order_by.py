from enum import StrEnum

class ReadJobHistoryOrderBy(StrEnum):
    REPORTED = "reported"
    REPORTED_DESC = "-reported"

    def __str__(self) -> str:
        return str(self.value)
