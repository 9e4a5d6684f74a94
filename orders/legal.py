"""The three documents a customer agrees to at checkout (T4, J2), with the versions in force.

An order records the versions agreed to; change a version here when the text of its page changes.
"""

DOCUMENT_VERSIONS = {
    "terms": "2026-12-02",
    "privacy": "2026-04-01",
    "tokushoho": "2026-12-02",
}

#: The automatic-renewal terms shown before a customer opts in (特定商取引法, 定期購入): stored with
#: the consent. Change it when ``templates/renewals/_terms.html`` changes.
AUTO_RENEWAL_TERMS_VERSION = "2026-12-02"
