"""Pure analysis: geometry, rotation estimation, hold coaching (numpy and stdlib only)."""
