"""Multi-camera 3D: calibration import, robust triangulation and its quality checks."""
