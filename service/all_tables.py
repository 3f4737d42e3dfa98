"""Imports every domain's tables so that Base.metadata is complete (Alembic, tests)."""

from service import idempotency as idempotency_tables
from service import security as security_tables
from service.batch import tables as batch_tables
from service.database import Base
from service.datasets import tables as datasets_tables
from service.registry import tables as registry_tables
from service.sweeps import tables as sweeps_tables
from service.training import tables as training_tables

__all__ = [
    "Base",
    "batch_tables",
    "datasets_tables",
    "idempotency_tables",
    "registry_tables",
    "security_tables",
    "sweeps_tables",
    "training_tables",
]
