from enum import StrEnum

class DownloadDatasetFormat(StrEnum):
    NPY = "npy"
    PARQUET = "parquet"

    def __str__(self) -> str:
        return str(self.value)
