from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from jobsite.upstream.client import client_for
from jobsite.upstream.models import Connection


class ConnectionForm(forms.ModelForm):
    """The token is write-only: never rendered back, and an empty field on edit keeps the old one."""

    token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current token, "
        "unless you change the base URL: the token never follows the connection to a new address.",
    )

    class Meta:
        model = Connection
        fields = [
            "name",
            "base_url",
            "auth_method",
            "timeout",
            "poll_interval",
            "batch_size",
            "terminal_recheck",
            "is_simulator",
        ]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        base_url = cleaned.get("base_url")
        if base_url and not cleaned.get("token") and self.instance.needs_token_for(base_url):
            message = (
                "A new connection needs an API token."
                if self.instance.pk is None
                else "The base URL changed: enter the API token again. jobsite never sends a stored "
                "token to a new address."
            )
            self.add_error("token", message)
        return cleaned

    def save(self, commit: bool = True) -> Connection:
        if self.cleaned_data["token"]:
            self.instance.token = self.cleaned_data["token"]
        return super().save(commit=commit)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "base_url", "auth_method", "poll_interval", "is_simulator", "updated_at"]
    search_fields = ["name", "base_url"]
    actions = ["test_connection"]

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset) -> None:
        for connection in queryset:
            result = client_for(connection).check()
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{connection.name}: {result.message}", level)
