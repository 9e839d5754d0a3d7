"""The abuse cases drive a plant the way the fault cases do."""

from tests.faults.conftest import _services_up, plant

__all__ = ["_services_up", "plant"]
