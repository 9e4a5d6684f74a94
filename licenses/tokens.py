"""Signed links in account mails: the sign-up confirmation (password resets use Django's own)."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class SignupTokenGenerator(PasswordResetTokenGenerator):
    """A confirmation link for a new, inactive account.

    Its own salt, so a password-reset link can never confirm a sign-up; like Django's reset tokens
    it is bound to the password hash, so signing up again with new details voids older links.
    Valid for ``PASSWORD_RESET_TIMEOUT`` (3 days).
    """

    key_salt = "licenses.tokens.SignupTokenGenerator"


signup_token_generator = SignupTokenGenerator()
