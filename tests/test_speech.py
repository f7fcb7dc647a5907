"""Spoken prompts: the engine chosen at start, and the policy that keeps them from overlapping or nagging."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from posecoach.analysis.events import CoachEvent  # noqa: E402
from posecoach.analysis.vocabulary import EventKind, Side  # noqa: E402
from posecoach.ui.audio import AudioCues  # noqa: E402
from posecoach.ui.speech import CommandSpeech, PromptPolicy, find_engine, install_hint  # noqa: E402


def test_a_prompt_never_starts_while_another_is_spoken_and_the_newest_wins():
    policy = PromptPolicy()
    assert policy.offer("Rotate to your right", 0.0)
    assert policy.next(0.0, speaking=False) == "Rotate to your right"
    policy.offer("Hold", 0.5)
    policy.offer("Keep your hips facing forward", 0.8)      # replaces "Hold", still waiting
    assert policy.next(1.0, speaking=True) is None          # the first is still being said
    assert policy.next(1.2, speaking=False) == "Keep your hips facing forward"
    assert policy.next(1.3, speaking=False) is None         # "Hold" was replaced, not queued


def test_a_prompt_that_waited_too_long_is_dropped():
    policy = PromptPolicy(max_wait_s=2.0)
    policy.offer("Hold", 0.0)
    assert policy.next(1.0, speaking=True) is None
    assert policy.next(2.5, speaking=False) is None         # late words are wrong words


def test_the_same_words_at_most_twice_a_rep():
    policy = PromptPolicy(per_rep=2, min_gap_s=4.0)
    said = []
    for k in range(6):                                      # the pelvis warning, every 5 s of one rep
        if policy.offer("Keep your hips facing forward", 5.0 * k, rep=1):
            said.append(policy.next(5.0 * k, speaking=False))
    assert said == ["Keep your hips facing forward"] * 2
    assert policy.offer("Keep your hips facing forward", 40.0, rep=2)   # the next rep may say it again
    # and not twice within min_gap_s, even in a new rep
    policy.next(40.0, speaking=False)
    assert not policy.offer("Keep your hips facing forward", 41.0, rep=3)


def test_confirmations_are_always_said_and_not_replaced_by_coaching():
    policy = PromptPolicy(per_rep=1)
    for t in (0.0, 10.0, 20.0):
        assert policy.offer("Coaching paused", t, always=True)
        assert policy.next(t, speaking=False) == "Coaching paused"
    policy.offer("Coaching resumed", 30.0, always=True)
    assert not policy.offer("Rotate to your left", 30.1)
    assert policy.next(30.2, speaking=False) == "Coaching resumed"


class FakeProcess:
    def __init__(self, argv, **kwargs):
        self.argv = argv
        self.done = False
        self.terminated = False

    def poll(self):
        return 0 if self.done or self.terminated else None

    def terminate(self):
        self.terminated = True


def test_command_engine_runs_one_process_at_a_time():
    started: list[FakeProcess] = []

    def popen(argv, **kwargs):
        started.append(FakeProcess(argv))
        return started[-1]

    engine = CommandSpeech("/usr/bin/spd-say", ("--wait",), popen=popen)
    engine.say("Hold")
    assert started[0].argv == ["/usr/bin/spd-say", "--wait", "Hold"] and engine.speaking()
    started[0].done = True
    assert not engine.speaking()
    engine.say("Rotate")
    engine.stop()
    assert started[1].terminated and not engine.speaking()


def test_engine_choice_falls_back_to_speaker_programs():
    problems: list[str] = []
    found = {"espeak-ng": "/usr/bin/espeak-ng", "espeak": "/usr/bin/espeak"}
    engine = find_engine(problems=problems, use_qt=False, which=found.get)
    assert isinstance(engine, CommandSpeech) and engine.name == "espeak-ng"
    assert find_engine(problems=problems, use_qt=False, which=lambda name: None) is None
    assert any("no speech program" in p for p in problems)
    assert "espeak-ng" in install_hint("linux")


class FakeEngine:
    name = "fake"

    def __init__(self):
        self.said: list[str] = []
        self.busy = False

    def say(self, text):
        self.said.append(text)
        self.busy = True

    def speaking(self):
        return self.busy

    def stop(self):
        self.busy = False


def test_audio_cues_queue_prompts_and_mute(qtbot):
    engine = FakeEngine()
    audio = AudioCues(enabled=False, speech=engine)
    assert audio.speech_status == "voice: fake"
    rotate = CoachEvent(t=0.0, kind=EventKind.ROTATE_NOW, side=Side.RIGHT, data={})
    audio.on_event(rotate, "Rotate to your right", rep=0)
    audio.on_event(CoachEvent(t=0.1, kind=EventKind.HOLD_STARTED, side=Side.RIGHT, data={}), "Hold", rep=0)
    assert engine.said == ["Rotate to your right"]          # "Hold" waits: nothing overlaps
    engine.busy = False
    qtbot.waitUntil(lambda: engine.said == ["Rotate to your right", "Hold"], timeout=2000)
    audio.set_muted(True)
    assert not audio.confirm("Coaching paused")
    audio.set_muted(False)
    assert audio.confirm("Coaching paused")
    audio.close()


def test_no_engine_is_shown_with_what_to_install():
    audio = AudioCues(enabled=True, speech=None)
    if audio.has_speech:
        assert audio.speech_status.startswith("voice: ")
    else:
        assert audio.speech_status.startswith("no voice: ")
    audio.close()
