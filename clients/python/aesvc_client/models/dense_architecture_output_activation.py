from enum import StrEnum

class DenseArchitectureOutputActivation(StrEnum):
    AUTO = "auto"
    CLIP = "clip"
    LINEAR = "linear"
    SIGMOID = "sigmoid"

    def __str__(self) -> str:
        return str(self.value)
