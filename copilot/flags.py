"""Every flag a suggestion can carry, defined once: the README's table is checked against this enum."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FLAG_HELP", "Flag"]


class Flag(StrEnum):
    NO_EVIDENCE = "no_evidence"
    LOW_CONFIDENCE = "low_confidence"
    EVIDENCE_IN_OTHER_LANGUAGE = "evidence_in_other_language"
    ESCALATE = "escalate"
    POSSIBLE_PROMPT_INJECTION = "possible_prompt_injection"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    UNSUPPORTED_CLAIM = "unsupported_claim"
    LLM_FALLBACK = "llm_fallback"
    WRONG_LANGUAGE = "wrong_language"
    INVALID_CITATION_REMOVED = "invalid_citation_removed"
    UNKNOWN_LINK_REMOVED = "unknown_link_removed"
    POISONED_SOURCE_EXCLUDED = "poisoned_source_excluded"
    PROMPT_LEAK_REMOVED = "prompt_leak_removed"
    INJECTED_TEXT_REMOVED = "injected_text_removed"
    OTHER_CUSTOMER_DATA_REMOVED = "other_customer_data_removed"
    LEFTOVER_REMOVED = "leftover_removed"
    ASKS_GIVEN_REMOVED = "asks_given_removed"
    REWRITE_UNSUPPORTED = "rewrite_unsupported"
    CREDENTIAL_REQUEST_REMOVED = "credential_request_removed"
    UNSUPPORTED_PROMISE_REMOVED = "unsupported_promise_removed"
    CUSTOMER_NAME_DROPPED = "customer_name_dropped"
    AGENT_TEXT_REMOVED = "agent_text_removed"
    OUT_OF_DOMAIN = "out_of_domain"


# What the agent should understand from each flag (the README's flag table says the same).
FLAG_HELP: dict[Flag, str] = {
    Flag.NO_EVIDENCE: "nothing similar enough was found; the reply is a holding or clarifying message",
    Flag.LOW_CONFIDENCE: "the confidence, calibrated on the brand's own history, is below the brand's threshold: "
                         "show \"no confident draft\" (sources and actions stay visible; the reply is not the "
                         "primary action)",
    Flag.EVIDENCE_IN_OTHER_LANGUAGE: "the only relevant article is in another language; the reply links to it",
    Flag.ESCALATE: "anger, a legal threat, churn risk or a safety issue was detected; `escalate` is the first action",
    Flag.POSSIBLE_PROMPT_INJECTION: "the ticket contains instructions aimed at the assistant; they were ignored",
    Flag.LANGUAGE_UNSUPPORTED: "no reply templates exist for the customer's language; the reply is in English",
    Flag.UNSUPPORTED_CLAIM: "a policy, amount, time frame or promise no cited source backs; see `unsupported_claims`",
    Flag.LLM_FALLBACK: "the LLM failed or its draft was rejected; the embedded drafter answered",
    Flag.WRONG_LANGUAGE: "the LLM answered in another language than the customer's; its draft was rejected",
    Flag.INVALID_CITATION_REMOVED: "a citation named a source that was not retrieved for this ticket; it was removed",
    Flag.UNKNOWN_LINK_REMOVED: "a sentence linked to a domain outside the brand and its cited sources; it was removed",
    Flag.POISONED_SOURCE_EXCLUDED: "a retrieved source was poisoned (instructions to an assistant, a credential "
                                   "request, a payment or login link to an unknown domain, an outlandish promise); "
                                   "it was not used",
    Flag.PROMPT_LEAK_REMOVED: "a sentence repeated the assistant's instructions; it was removed",
    Flag.INJECTED_TEXT_REMOVED: "a sentence repeated text the ticket tried to plant; it was removed",
    Flag.OTHER_CUSTOMER_DATA_REMOVED: "a sentence held another customer's personal data; it was removed",
    Flag.LEFTOVER_REMOVED: "another case's name, agent signature, product or context (\"regarding your DM\") that "
                           "neither the ticket nor a cited article mentions was removed",
    Flag.ASKS_GIVEN_REMOVED: "a question asked for details the customer already gave (order number, device, "
                             "address, photo...); it was removed",
    Flag.REWRITE_UNSUPPORTED: "this rewrite needs an LLM; the reply is unchanged",
    Flag.CREDENTIAL_REQUEST_REMOVED: "a sentence asked the customer for a password, a code or card details; it was removed",
    Flag.UNSUPPORTED_PROMISE_REMOVED: "an amount, or a refund or compensation promise, that no help-center article "
                                      "states was removed (a past reply alone does not make it policy)",
    Flag.CUSTOMER_NAME_DROPPED: "the customer's name did not look like a name (a link, digits, a sentence); "
                                "the greeting does not use it",
    Flag.AGENT_TEXT_REMOVED: "a sentence spoke to an agent (\"tell the customer...\", an internal note); it was "
                             "removed (the sources' agent text is in `guidance`)",
    Flag.OUT_OF_DOMAIN: "the message names another company's product or service (Gmail, 淘宝...) that no cited "
                        "source mentions: the reply answers another question (also `low_confidence`)",
}
