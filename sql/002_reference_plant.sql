-- The reference plant (shared/plant.tsv): six sensors of a steam power plant.
-- The simulator settings for the same sensors live in controlroom/presets.py.
INSERT INTO sensor (name, serial_no, unit_type, min_safe_value, max_safe_value, period_s) VALUES
    ('boiler_pressure_out',    'MPR-728',  'MPa', 15.1,   15.4,   1.0),
    ('turbine_pressure_out',   'MPR-492',  'MPa', 0.8,    1.4,    1.0),
    ('condensor_pressure_out', 'MPR-317',  'MPa', 0.0008, 0.0022, 1.0),
    ('boiler_temp_out',        'XTLR-145', 'C',   580,    625,    1.0),
    ('turbine_temp_out',       'XTLR-145', 'C',   98,     115,    1.0),
    ('condensor_temp_out',     'XTLR-145', 'C',   83,     98,     1.0)
ON CONFLICT (name) DO NOTHING;
