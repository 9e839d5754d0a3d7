"""What the control room tells itself (and its tests): one small class per event."""

from __future__ import annotations

from textual.message import Message


class BrokerChanged(Message):
    """The broker connection went up or down."""

    def __init__(self, connected: bool, detail: str = "") -> None:
        super().__init__()
        self.connected = connected
        self.detail = detail


class DatabaseChanged(Message):
    """The database became reachable or unreachable."""

    def __init__(self, available: bool, detail: str = "") -> None:
        super().__init__()
        self.available = available
        self.detail = detail


class HistoryLoaded(Message):
    """Known sensors, recent readings and open alarms came from PostgreSQL."""

    def __init__(self, sensors: int, readings: int, alarms: int) -> None:
        super().__init__()
        self.sensors = sensors
        self.readings = readings
        self.alarms = alarms


class SensorSpawned(Message):
    """This session started a sensor process."""

    def __init__(self, name: str, pid: int, log_path: str) -> None:
        super().__init__()
        self.name = name
        self.pid = pid
        self.log_path = log_path


class ScenarioStarted(Message):
    """This session started playing a scenario (its runner process)."""

    def __init__(self, name: str, pid: int, log_path: str) -> None:
        super().__init__()
        self.name = name
        self.pid = pid
        self.log_path = log_path


class ChildExited(Message):
    """A process this session started has ended (by itself or because it was stopped)."""

    def __init__(self, label: str, status: int, last_line: str) -> None:
        super().__init__()
        self.label = label
        self.status = status
        self.last_line = last_line


class StopRequested(Message):
    """A stop for a sensor went out on the control exchange."""

    def __init__(self, sensor: str, operator: str) -> None:
        super().__init__()
        self.sensor = sensor
        self.operator = operator


class AckRequested(Message):
    """An acknowledgement went to the coordinator."""

    def __init__(self, alarm_id: str, sensor: str, operator: str) -> None:
        super().__init__()
        self.alarm_id = alarm_id
        self.sensor = sensor
        self.operator = operator
