"""Pose estimation. Only ``mediapipe_backend`` imports mediapipe; the rest is plain data."""

from posecoach.pose.types import PoseFrame

__all__ = ["PoseFrame"]
