from enum import StrEnum

class ListModelVersionsOrderBy(StrEnum):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    VERSION = "version"
    VERSION_DESC = "-version"

    def __str__(self) -> str:
        return str(self.value)
