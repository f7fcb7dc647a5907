"""Measuring tools for developers: ``posecoach accuracy`` and ``posecoach bench``."""
