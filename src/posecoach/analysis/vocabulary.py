"""The domain's vocabulary: every code the layers pass to each other, in one place.

Each set of codes is a :class:`enum.StrEnum`, so a member *is* its string value: it
compares equal to it, formats as it, and ``json`` and ``sqlite3`` store it as a plain
string (the analysis document and the session store keep their values). The words users
see for these codes live in one module above: :mod:`posecoach.session.messages`.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Which way a rep turns: ``right`` when the separation is positive."""

    RIGHT = "right"
    LEFT = "left"


class Posture(StrEnum):
    """The body position a protocol is done in; the estimator and the framing guide follow it."""

    STANDING = "standing"
    SEATED = "seated"
    HALF_KNEELING = "half-kneeling"


class SideOrder(StrEnum):
    """The order of the sides in a set.

    ``first-turn-then-other``: every rep to the side of the set's first turn, then the
    other side (half-kneeling: the person turns toward the knee in front, then swaps knees).
    """

    ALTERNATE = "alternate"
    RIGHT_THEN_LEFT = "right-then-left"
    LEFT_THEN_RIGHT = "left-then-right"
    FIRST_TURN_THEN_OTHER = "first-turn-then-other"


class Phase(StrEnum):
    """The coach's state machine (DESIGN.md section 4)."""

    CALIBRATING = "calibrating"
    NEUTRAL = "neutral"
    ROTATING = "rotating"
    HOLDING = "holding"
    RETURNING = "returning"
    REST = "rest"
    DONE = "done"


class Fault(StrEnum):
    """Faults recorded on a rep."""

    PELVIS_ROTATION = "pelvis_rotation"
    TOO_FAST = "too_fast"
    HOLD_BROKEN = "hold_broken"
    WRONG_SIDE = "wrong_side"


class TrialStatus(StrEnum):
    """Whether a range-test trial counts, and if not, why."""

    OK = "ok"
    PELVIS = "pelvis"            # the pelvis turned beyond its limit
    SHORT_PAUSE = "short_pause"  # the end position was not held for the pause
    NO_PAUSE = "no_pause"        # reached the end but never paused there


class Trend(StrEnum):
    """A range-test result against the previous one, given the smallest real change."""

    IMPROVED = "improved"
    NO_REAL_CHANGE = "no_real_change"
    WORSE = "worse"


class EventKind(StrEnum):
    """Coach events, in the order a rep produces them."""

    CALIBRATED = "calibrated"
    ROTATE_NOW = "rotate_now"
    WRONG_SIDE = "wrong_side"
    HOLD_STARTED = "hold_started"
    HOLD_TICK = "hold_tick"
    HOLD_PAUSED = "hold_paused"
    HOLD_RESUMED = "hold_resumed"
    HOLD_COMPLETE = "hold_complete"
    HOLD_BROKEN = "hold_broken"
    FAULT = "fault"
    REP_DONE = "rep_done"
    SET_COMPLETE = "set_complete"
    REST = "rest"
    REST_OVER = "rest_over"
    SESSION_COMPLETE = "session_complete"
    TRACKING_LOST = "tracking_lost"
    TRACKING_REGAINED = "tracking_regained"


class Reason(StrEnum):
    """Why a frame carries no measurement (``RotationSample.tracked`` is False)."""

    NO_PERSON = "no_person"
    HIPS_NOT_VISIBLE = "hips_not_visible"
    BACK_TO_CAMERA = "back_to_camera"
    PERSON_SWITCHED = "person_switched"
    PERSON_UNSURE = "person_unsure"
    CALIBRATING = "calibrating"
    NOT_FACING = "not_facing"
    TRACKING = "tracking"   # the coach's own: a sample it cannot use, for no stated reason


class CalibrationConcern(StrEnum):
    """What the neutral stance showed that makes the measurement less sure (``Calibration.concerns``)."""

    SHIRT_OVER_HIPS = "shirt_over_hips"   # a loose hem hides the pelvis picture
    HANDS_HIGH = "hands_high"             # wrists at the chin or shoulders: the turn's gain is unknown
    HEAD_OUT_OF_PICTURE = "head_out_of_picture"  # the pose model loses the shoulders' left and right
    PLAIN_PELVIS = "plain_pelvis"         # the hips show too little detail for the pelvis picture


class Pause(StrEnum):
    """Why a hold's timer is paused."""

    PELVIS = "pelvis"
    TRACKING = "tracking"


class Alert(StrEnum):
    """What the coach warns about while it lasts; the overlay shows a banner for some."""

    PELVIS = "pelvis"
    TOO_FAST = "too_fast"
    TRACKING = "tracking"


class Instruction(StrEnum):
    """What the coach asks for now; its parameters are in the coach's state."""

    CALIBRATE = "calibrate"
    ROTATE = "rotate"               # to ``side``, or else ``expected_side``
    HOLD = "hold"                   # the hold time left: target - progress
    HOLD_PAUSED_PELVIS = "hold_paused_pelvis"
    HOLD_PAUSED_TRACKING = "hold_paused_tracking"
    HOLD_COMPLETE = "hold_complete"
    RETURN = "return"
    REST = "rest"                   # ``rest_remaining_s``
    DONE = "done"


class GuideStage(StrEnum):
    """The guided start, in the order a session goes through it."""

    FRAMING = "framing"
    COUNTDOWN = "countdown"
    CALIBRATING = "calibrating"
    COACHING = "coaching"
    DONE = "done"


class FramingIssue(StrEnum):
    """What is wrong with the picture before calibration, most important first."""

    NO_PERSON = "no_person"
    HEAD = "head"
    HIPS = "hips"
    KNEES = "knees"
    TOO_FAR = "too_far"
    OFF_CENTRE = "off_centre"
    NOT_FACING = "not_facing"
    HANDS_UP = "hands_up"           # half-kneeling: a stick across the shoulders hides the turn
    ARMS_CROSSED = "arms_crossed"   # seated: arms crossed on the chest hide most of the turn
    HANDS_HIGH = "hands_high"       # standing: hands gripped at the chin hide the shoulders


class GuideCueKind(StrEnum):
    """What the guide wants said or beeped."""

    FRAMING = "framing"
    COUNTDOWN = "countdown"
    CALIBRATING = "calibrating"


class BannerKind(StrEnum):
    """The warning banners of the live overlay."""

    PELVIS = "pelvis"
    TOO_FAST = "too_fast"
    GESTURE = "gesture"     # a hands-free gesture being made


class Gesture(StrEnum):
    """The hands-free gestures (analysis/gestures.py)."""

    TOGGLE_PAUSE = "toggle_pause"   # one hand raised above the head: pause or resume the coaching
    END_SESSION = "end_session"     # both hands raised above the head: end the session


class Control(StrEnum):
    """What a hands-free gesture or a remote's key did to the session."""

    PAUSED = "paused"
    RESUMED = "resumed"
    ENDED = "ended"


class ControlSource(StrEnum):
    """Where a control came from."""

    GESTURE = "gesture"
    KEY = "key"      # a key, a presenter remote, a headset button, a menu
