"""Frame sources: video files and cameras behind one small interface."""

from posecoach.capture.frame_source import Frame, FrameSource, SourceInfo

__all__ = ["Frame", "FrameSource", "SourceInfo"]
