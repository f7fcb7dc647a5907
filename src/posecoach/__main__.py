"""Allow ``python -m posecoach``."""

from posecoach.cli import main

raise SystemExit(main())
