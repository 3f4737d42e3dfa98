from enum import StrEnum

class ConvArchitectureActivation(StrEnum):
    ELU = "elu"
    LINEAR = "linear"
    RELU = "relu"
    SELU = "selu"
    SIGMOID = "sigmoid"
    TANH = "tanh"

    def __str__(self) -> str:
        return str(self.value)
