from __future__ import annotations

from copilot.brand import BrandProfile, Frame, apply_frame, check_voice, split_frame, voice_frame


def test_apply_frame_wraps_and_enforces_banned_phrases() -> None:
    p = BrandProfile(banned_phrases={"unfortunately": "I'm sorry, but", "guaranteed": ""})
    out = apply_frame("Unfortunately we can't. Delivery is guaranteed tomorrow. Refunds take 5 days.", p,
                      Frame("en", "Hi Ann,", "Bye,\nAcme", "No passwords, ever."))
    assert out == "Hi Ann,\n\nI'm sorry, but we can't. Refunds take 5 days.\n\nNo passwords, ever.\n\nBye,\nAcme"
    assert check_voice(out, p, lang="en", greeting="Hi Ann,", sign_off="Bye,\nAcme",
                       disclaimer="No passwords, ever.") == []


def test_apply_frame_trims_to_max_words_on_sentence_boundaries() -> None:
    p = BrandProfile(max_words=8, use_greeting=False, use_sign_off=False)
    out = apply_frame("One two three four. Five six seven eight. Nine ten eleven.", p, Frame("en", "", ""))
    assert out == "One two three four. Five six seven eight."


def test_check_voice_reports_each_problem() -> None:
    p = BrandProfile(banned_phrases={"no problem": "happy to help"})
    codes = {i.code for i in check_voice("No problem, done.", p, lang="en", greeting="Hi,", sign_off="Bye",
                                         disclaimer="Terms apply.")}
    assert codes == {"banned_phrase", "missing_disclaimer", "missing_greeting", "missing_sign_off"}


def test_the_frame_names_the_brand_and_the_customer_and_profile_strings_win() -> None:
    plain = voice_frame(BrandProfile(name="Acme"), "acme", "vi", "Lan")
    assert (plain.language, plain.greeting) == ("vi", "Chào Lan,") and "Acme" in plain.sign_off
    unknown = voice_frame(BrandProfile(), "default", "pt")
    assert unknown.language == "en" and "default" not in unknown.sign_off
    own = voice_frame(BrandProfile(name="Acme", greeting_anonymous={"en": "Hello from Acme,"}), "acme", "en")
    assert own.greeting == "Hello from Acme,"


def test_split_frame_takes_the_frame_off_again() -> None:
    p = BrandProfile(name="Acme", disclaimers={"en": "No passwords."})
    frame = voice_frame(p, "acme", "en", "Ann")
    framed = apply_frame("Refunds take 5 days.\n\nSee the article.", p, frame)
    assert split_frame(framed, frame) == ("Hi Ann,", "Refunds take 5 days.\n\nSee the article.")
