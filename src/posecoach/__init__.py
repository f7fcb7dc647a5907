"""posecoach: a webcam coach for the standing trunk-rotation drill."""

__version__ = "0.1.0"
