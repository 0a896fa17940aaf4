"""The brand's learned voice and the calibration of confidence (texts written for these tests)."""

from __future__ import annotations

import random

import pytest

from copilot.brand import BrandProfile, apply_frame, voice_frame
from copilot.calibration import DEFAULT, Calibration, fit, pav
from copilot.voice import learn_voice, voiced_profile

TWITTER = [
    "[HANDLE] Hi there, sorry to hear that! Which device are you on? ^KD",
    "[HANDLE] Oh no! Have you tried a reboot? *TJF",
    "[HANDLE] Sorry about the wait. Can you DM us your postcode? /JI",
    "[HANDLE] That's not right. What does the app show? ^MM",
    "[HANDLE] We'd love to help. Which store was this? -Sam",
    "[HANDLE] Thanks for flagging this. Is it every channel? ^KD",
]
EMAIL = [
    "Hi there,\n\nThanks for writing in. Your refund is on its way.\n\nBest regards,\nThe Acme Home team",
    "Hello,\n\nI'm sorry about the delay. We have shipped it.\n\nBest regards,\nThe Acme Home team",
    "Hi there,\n\nGood news: the part ships today.\n\nBest regards,\nThe Acme Home team",
    "Hi there,\n\nYou can return it within 30 days.\n\nKind regards,\nThe Acme Home team",
    "Hi there,\n\nThe link is in your e-mail.\n\nBest regards,\nThe Acme Home team",
]


def test_a_twitter_brand_is_learned_as_one_short_line_signed_by_the_agent_not_the_copilot() -> None:
    voice = learn_voice([("twitter", r) for r in TWITTER])
    assert voice is not None
    v = voice.for_channel("twitter")
    assert v is not None and v.signature == "initials" and v.greeting_share < 0.5 and v.p90_chars < 100
    profile = voiced_profile(BrandProfile(), voice, "twitter")
    assert not profile.use_greeting and not profile.use_sign_off and profile.max_chars == 280
    reply = apply_frame("Sorry to hear that! Which device are you on?", profile, voice_frame(profile, "shop", "en"))
    assert reply == "Sorry to hear that! Which device are you on?"


def test_an_email_brand_keeps_its_greeting_line_and_team_sign_off() -> None:
    voice = learn_voice([("email", r) for r in EMAIL])
    assert voice is not None
    v = voice.for_channel("email")
    assert v is not None and v.signature == "team" and v.team_sign_off == "The Acme Home team"
    assert v.greeting_share == 1.0 and v.greeting_own_line == 1.0 and v.greeting == "Hi there,"
    profile = voiced_profile(BrandProfile(), voice, "email")
    reply = apply_frame("Your parcel ships today.", profile, voice_frame(profile, "acme", "en"))
    assert reply == "Hi there,\n\nYour parcel ships today.\n\nThe Acme Home team"


def test_per_channel_voice_and_configured_values_win() -> None:
    voice = learn_voice([("twitter", r) for r in TWITTER] + [("email", r) for r in EMAIL])
    assert voice is not None and set(voice.channels) == {"*", "twitter", "email"}
    configured = BrandProfile(name="Acme", use_sign_off=True, sign_off={"en": "Cheers,\nAcme"})
    profile = voiced_profile(configured, voice, "twitter")
    assert profile.use_sign_off and profile.sign_off == {"en": "Cheers,\nAcme"} and not profile.use_greeting
    # An unknown channel takes the brand's overall voice.
    assert voiced_profile(BrandProfile(), voice, "chat").use_greeting is not None


def test_a_brand_never_signs_with_its_raw_id_and_social_replies_fit_a_tweet() -> None:
    for brand in ("shop", "default", "BrandX_Help"):
        frame = voice_frame(BrandProfile(), brand, "en")
        assert brand not in frame.sign_off and "Support" in frame.sign_off
    assert "shop" not in voice_frame(BrandProfile(), "shop", "zh").sign_off
    social = voiced_profile(BrandProfile(), None, "twitter")
    long_body = " ".join(f"Step {i}: please try the next thing on the list." for i in range(20))
    reply = apply_frame(long_body, social, voice_frame(social, "shop", "en"))
    assert len(reply) <= 280 and reply.startswith("Step 0") and "Best regards" not in reply


def test_an_inline_greeting_starts_the_first_sentence() -> None:
    p = BrandProfile(greeting_inline=True, use_sign_off=False)
    assert apply_frame("Sorry to hear that.", p, voice_frame(p, "x", "en")) == "Hi there, sorry to hear that."
    assert apply_frame("Apple Music is down.", p, voice_frame(p, "x", "en")) == "Hi there! Apple Music is down."
    no_emoji = BrandProfile(emoji=False, use_greeting=False, use_sign_off=False)
    assert apply_frame("Oh no 😕 which device?", no_emoji, voice_frame(no_emoji, "x", "en")) == "Oh no which device?"


def test_too_few_replies_teach_nothing() -> None:
    assert learn_voice([("twitter", r) for r in TWITTER[:3]]) is None
    assert learn_voice([]) is None


# --- calibration ----------------------------------------------------------------------------------


def test_pav_is_monotone_and_pools_violators() -> None:
    points = pav([0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 1.0])
    ys = [y for _, y in points]
    assert ys == sorted(ys) and ys[0] == 0.0 and ys[-1] == 1.0 and len(points) == 3


def test_the_map_interpolates_and_is_flat_outside() -> None:
    cal = Calibration(points=[(0.2, 0.1), (0.6, 0.9)], threshold=0.5)
    assert cal.map(0.0) == 0.1 and cal.map(1.0) == 0.9 and cal.map(0.4) == pytest.approx(0.5)
    assert cal.low(0.49) and not cal.low(0.5)


def test_fit_ranks_like_the_history_and_a_short_history_keeps_the_default() -> None:
    rng = random.Random(3)
    raw = [rng.random() for _ in range(60)]
    good = [r > 0.6 for r in raw]
    cal = fit(raw, good, history=200)
    assert cal.samples == 60 and cal.good == sum(good) and cal.history == 200
    assert cal.map(0.9) > 0.8 and cal.map(0.2) < 0.2
    mapped = [cal.map(x / 20) for x in range(21)]
    assert mapped == sorted(mapped)
    short = fit(raw[:5], good[:5], history=5)
    assert short.points == DEFAULT.points and short.samples == 5


def test_a_brand_whose_drafts_are_rarely_like_its_agents_gets_low_confidence() -> None:
    raw = [0.3 + 0.01 * i for i in range(40)]
    cal = fit(raw, [False] * 38 + [True] * 2, history=100)
    assert sum(cal.low(cal.map(x)) for x in raw) >= 0.9 * len(raw)
    good_brand = fit(raw, [True] * 40, history=100)
    assert not any(good_brand.low(good_brand.map(x)) for x in raw)
