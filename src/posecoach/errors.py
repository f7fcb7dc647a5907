"""Errors a user can cause, carrying a message meant to be read by that user."""


class PosecoachError(Exception):
    """Base class: the message is shown to the user as is, on one line."""


class SourceError(PosecoachError):
    """A video file or camera cannot be opened or read."""


class ModelError(PosecoachError):
    """The pose model is missing, damaged, or cannot be fetched."""


class StoreError(PosecoachError):
    """The session database cannot be opened or written."""


class ProtocolError(PosecoachError):
    """A protocol file is missing or malformed."""
