"""The abuse cases drive a plant the way the fault cases do."""

from tests.faults.conftest import plant

__all__ = ["plant"]
