"""The reference plant: six sensors of a steam power plant (boiler -> turbine -> condenser).

The simulated range is a little wider than the safe range on some sensors, so alarms happen.
The same sensors are seed data in sql/002_reference_plant.sql; a test keeps the two in step.
"""

from __future__ import annotations

from controlroom.plant.sensors import SensorInfo
from controlroom.simulation.sensor import SimulatedSensor


def _preset(
    name: str, serial: str, unit: str, safe: tuple[float, float], sim: tuple[float, float, float]
) -> SimulatedSensor:
    return SimulatedSensor(
        info=SensorInfo(name, serial, unit, safe[0], safe[1], period_s=1.0),
        minimum=sim[0],
        maximum=sim[1],
        step=sim[2],
        freq_hz=1.0,
    )


REFERENCE_PLANT: tuple[SimulatedSensor, ...] = (
    _preset("boiler_pressure_out", "MPR-728", "MPa", (15.1, 15.4), (15, 15.5, 0.05)),
    _preset("turbine_pressure_out", "MPR-492", "MPa", (0.8, 1.4), (0.9, 1.3, 0.05)),
    _preset("condensor_pressure_out", "MPR-317", "MPa", (0.0008, 0.0022), (0.001, 0.002, 0.0001)),
    _preset("boiler_temp_out", "XTLR-145", "C", (580, 625), (590, 615, 1)),
    _preset("turbine_temp_out", "XTLR-145", "C", (98, 115), (100, 105, 1)),
    _preset("condensor_temp_out", "XTLR-145", "C", (83, 98), (80, 98, 1)),
)

PRESETS = {"plant": REFERENCE_PLANT}


def preset_source(preset: str) -> str:
    """The source (gateway) name `sensors --preset NAME` runs under by default."""
    return f"{preset}-gateway"
