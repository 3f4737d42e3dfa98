from enum import StrEnum

class BatchProgressRuntimeType0(StrEnum):
    ONNXRUNTIME = "onnxruntime"
    TORCH = "torch"

    def __str__(self) -> str:
        return str(self.value)
