from enum import StrEnum

class ModelVersionPublicKind(StrEnum):
    CONV = "conv"
    CONV_VAE = "conv_vae"
    DENSE = "dense"
    LINEAR = "linear"
    VAE = "vae"

    def __str__(self) -> str:
        return str(self.value)
