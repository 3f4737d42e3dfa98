from enum import StrEnum

class SparsityKind(StrEnum):
    KL = "kl"
    L1 = "l1"

    def __str__(self) -> str:
        return str(self.value)
