"""The Qt workstation window. Qt lives here only; it adapts the Qt-free engine in ``core``."""
