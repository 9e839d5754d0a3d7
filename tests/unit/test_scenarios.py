"""Scenario files: the shipped ones read, and each mistake in a file is one line naming the
file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlroom.errors import ConfigError
from controlroom.simulation.presets import REFERENCE_PLANT
from controlroom.simulation.scenario import ScenarioError, load, shipped

GOOD = """\
description = "a test"
duration = "1m"

[[sensor]]
preset = "boiler_temp_out"
faults = ["spike@10s:+50"]

[[sensor]]
name = "valve"
min = 0
max = 1
step = 0.1
freq = 2
faults = ["dropout@20s:5s"]
"""


def test_the_three_shipped_scenarios() -> None:
    scenarios = {scenario.name: scenario for scenario in shipped()}
    assert set(scenarios) == {"boiler-overpressure", "stuck-sensor", "alarm-flood"}
    reference = {preset.info.name: preset for preset in REFERENCE_PLANT}
    for scenario in scenarios.values():
        assert scenario.description and scenario.timeline()
        assert load(scenario.name) == scenario
        for sensor in scenario.sensors:
            preset = reference.get(sensor.info.name)
            if preset is not None:  # a reference sensor keeps its identity and safe range
                assert sensor.info == preset.info
    assert scenarios["boiler-overpressure"].expect.alarms
    assert scenarios["alarm-flood"].expect.chattering == ("condensor_temp_out",)


def test_a_file_and_its_speed(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    scenario = load(str(path))
    assert (scenario.name, scenario.duration_s, scenario.origin) == ("mine", 60.0, str(path))
    fast = scenario.scaled(10)
    assert fast.duration_s == 6.0
    valve = fast.sensors[1]
    assert (valve.freq_hz, valve.info.period_s) == (20.0, 0.05)
    assert valve.faults[0].text() == "dropout@2s:0.5s"
    with pytest.raises(ConfigError, match="--speed"):
        scenario.scaled(0)
    with pytest.raises(ConfigError, match="at most 1000 Hz"):
        scenario.scaled(600)


def variant(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (the file's text, what the one line must say)
BAD = [
    (variant('duration = "1m"', "duration = "), "line 2: not TOML"),
    (variant('duration = "1m"\n', ""), "duration: is missing"),
    (variant('"1m"', '"soon"'), 'line 2: duration: must be a span such as "5m"'),
    (variant('description = "a test"', "colour = 1"), "line 1: colour: unknown field"),
    (variant('preset = "boiler_temp_out"', 'preset = "kettle"'), "line 5: sensor[0].preset"),
    (variant("freq = 2", "frq = 2"), "line 13: sensor[1].frq: unknown field"),
    (variant("freq = 2\n", ""), "sensor[1].freq: is missing"),
    (variant("min = 0", "min = 5"), "line 10: sensor[1]: min (5) must be below max (1)"),
    (variant("step = 0.1", 'step = "big"'), "line 12: sensor[1].step: must be a number"),
    (variant('"spike@10s:+50"', '"spike@10s"'), "line 6: sensor[0].faults[0] 'spike@10s'"),
    (variant('"dropout@20s:5s"', '"dropout@2m:5s"'), "starts after the scenario's duration"),
    (variant('name = "valve"', 'name = "boiler_temp_out"'), "sensor[1].name: 'boiler_temp_out'"),
    (GOOD + '\n[expect]\nstale = ["nobody"]\n', "line 17: expect.stale: must list sensors"),
    (GOOD + '\n[expect]\nalarms = [{ sensor = "valve", kind = "UP" }]\n', "kind must be HIGH"),
    ('duration = "1m"\n', "no [[sensor]] tables"),
]


@pytest.mark.parametrize(("text", "words"), BAD)
def test_each_mistake_is_one_line_naming_file_line_and_field(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert words in message, message


def test_no_such_scenario() -> None:
    with pytest.raises(ScenarioError, match="nowhere: no such file, nor a shipped scenario"):
        load("nowhere")
