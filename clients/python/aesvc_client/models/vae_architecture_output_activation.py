from enum import StrEnum

class VaeArchitectureOutputActivation(StrEnum):
    AUTO = "auto"
    CLIP = "clip"
    LINEAR = "linear"
    SIGMOID = "sigmoid"

    def __str__(self) -> str:
        return str(self.value)
