"""The headless processes of a plant: sensors, coordinator, datamanager, bridge, supervisor."""
