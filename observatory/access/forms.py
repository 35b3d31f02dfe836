from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from observatory.access import services


class ThrottledLoginForm(AuthenticationForm):
    """The login form, refusing further attempts after repeated failures for a name or an address."""

    def _client_address(self) -> str:
        return str(self.request.META.get("REMOTE_ADDR", "")) if self.request else ""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        locked_until = services.login_locked_until(username, self._client_address())
        if locked_until is not None:
            minutes = max(1, int((locked_until - timezone.now()).total_seconds() // 60) + 1)
            raise forms.ValidationError(
                f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            services.note_login_failure(username, self._client_address())
            raise
        services.note_login_success(username)
        return cleaned


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'national statistics ETL'.")
    valid_days = forms.IntegerField(min_value=1, max_value=730, initial=365)
