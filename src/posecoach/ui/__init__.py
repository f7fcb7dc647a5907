"""The live coach window (PyQt6): camera or replay, overlay, guidance, audio, summary."""
