"""The reference plant in Python matches its seed data and the shared plant table."""

import re
from pathlib import Path

import pytest

from controlroom.db.migrations import sql_directory
from controlroom.simulation.presets import REFERENCE_PLANT


def test_seed_data_matches_presets() -> None:
    seed = (sql_directory() / "002_reference_plant.sql").read_text()
    rows = re.findall(r"\('(\w+)',\s*'([\w-]+)',\s*'(\w+)',\s*([\d.]+),\s*([\d.]+)", seed)
    seeded = {name: (serial, unit, float(lo), float(hi)) for name, serial, unit, lo, hi in rows}
    presets = {
        s.info.name: (s.info.serial_no, s.info.unit, s.info.safe_min, s.info.safe_max)
        for s in REFERENCE_PLANT
    }
    assert seeded == presets


def test_presets_match_the_shared_plant_table() -> None:
    table = Path(__file__).resolve().parents[3] / "shared" / "plant.tsv"
    if not table.exists():
        pytest.skip("shared/plant.tsv is not beside this checkout")
    lines = [line.split("\t") for line in table.read_text().splitlines()]
    rows = [row for row in lines if len(row) == 9 and not row[0].startswith("#")][1:]
    by_name = {s.info.name: s for s in REFERENCE_PLANT}
    assert set(by_name) == {row[0] for row in rows}
    for name, _serial, _unit, _lo, _hi, sim_min, sim_max, step, freq in rows:
        preset = by_name[name]
        assert (preset.minimum, preset.maximum, preset.step, preset.freq_hz) == (
            float(sim_min),
            float(sim_max),
            float(step),
            float(freq),
        )
