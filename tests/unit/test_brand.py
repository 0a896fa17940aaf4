from __future__ import annotations

from copilot.brand import BrandProfile, apply_voice, check_voice


def test_apply_voice_wraps_and_enforces_banned_phrases() -> None:
    p = BrandProfile(banned_phrases={"unfortunately": "I'm sorry, but", "guaranteed": ""})
    out = apply_voice("Unfortunately we can't. Delivery is guaranteed tomorrow. Refunds take 5 days.", p,
                      lang="en", greeting="Hi Ann,", sign_off="Bye,\nAcme", disclaimer="No passwords, ever.")
    assert out == "Hi Ann,\n\nI'm sorry, but we can't. Refunds take 5 days.\n\nNo passwords, ever.\n\nBye,\nAcme"
    assert check_voice(out, p, lang="en", greeting="Hi Ann,", sign_off="Bye,\nAcme",
                       disclaimer="No passwords, ever.") == []


def test_apply_voice_trims_to_max_words_on_sentence_boundaries() -> None:
    p = BrandProfile(max_words=8, use_greeting=False, use_sign_off=False)
    out = apply_voice("One two three four. Five six seven eight. Nine ten eleven.", p, lang="en", greeting="",
                      sign_off="")
    assert out == "One two three four. Five six seven eight."


def test_check_voice_reports_each_problem() -> None:
    p = BrandProfile(banned_phrases={"no problem": "happy to help"})
    codes = {i.code for i in check_voice("No problem, done.", p, lang="en", greeting="Hi,", sign_off="Bye",
                                         disclaimer="Terms apply.")}
    assert codes == {"banned_phrase", "missing_disclaimer", "missing_greeting", "missing_sign_off"}
