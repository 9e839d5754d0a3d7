"""limits area of the screen: the form that edits a sensor's alarm definitions."""
