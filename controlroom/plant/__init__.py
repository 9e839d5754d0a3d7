"""The plant as controlroom understands it: sensors, their readings, their alarms, and the
picture a viewer folds from the plant's events. Plain types; how they travel is `wire`'s."""
