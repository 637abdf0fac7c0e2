from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Q

from jobsite.upstream.models import Connection
from jobsite.watchlists.models import Visibility, Watchlist
from jobsite.watchlists.parsing import ParsedIds, extract_job_ids
from jobsite.watchlists.selectors import watchlist_name_taken

POLL_INTERVAL_HELP = "Seconds between refreshes (whole number, at least 1)."
JOB_IDS_HELP = (
    "Paste anything that contains job IDs: a list, a JSON answer, log lines. "
    "jobsite picks out the UUIDs and ignores the rest."
)


def _unique_name(name: str, *, owner, other_than: Watchlist | None = None) -> str:
    """Watchlist names are unique per owner, whatever their case: two "Nightly loads" confuse."""
    if watchlist_name_taken(owner=owner, name=name, other_than=other_than):
        raise forms.ValidationError(f"You already have a watchlist named “{name}”. Choose another name.")
    return name


class JobIdsField(forms.CharField):
    """A paste box whose cleaned value is the job IDs found in it."""

    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"})

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Job IDs")
        kwargs.setdefault("help_text", JOB_IDS_HELP)
        super().__init__(strip=False, **kwargs)

    def clean(self, value) -> ParsedIds:
        text = super().clean(value)
        parsed = extract_job_ids(text)
        if not parsed.job_ids:
            raise forms.ValidationError(
                "No job ID found. Job IDs look like cefb58a0-cd71-11ec-8e29-81c20d280994.",
                code="no_ids",
            )
        return parsed


class WatchlistCreateForm(forms.Form):
    name = forms.CharField(max_length=120)
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.all(), empty_label=None, help_text="Where the jobs run."
    )
    poll_interval = forms.IntegerField(
        label="pollInterval",
        min_value=1,
        max_value=3600,
        required=False,
        help_text=POLL_INTERVAL_HELP + " Empty: the connection's default.",
    )
    job_ids = JobIdsField()

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        connection = self.fields["connection"]
        assert isinstance(connection, forms.ModelChoiceField)
        if Connection.objects.count() > 1:
            # No silent default among several: the first alphabetically may be the wrong one.
            connection.empty_label = "Choose a connection"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        return _unique_name(name, owner=self.owner) if self.owner is not None else name


class SharedGroupsField(forms.ModelMultipleChoiceField):
    """The groups a watchlist is shared with; any its owner has left say so."""

    member_of: frozenset[int] = frozenset()  # the owner's groups

    def label_from_instance(self, obj) -> str:
        return obj.name if obj.pk in self.member_of else f"{obj.name} (you have left this group)"


class WatchlistSettingsForm(forms.ModelForm):
    class Meta:
        model = Watchlist
        fields = ["name", "poll_interval", "visibility", "shared_groups"]
        labels = {"poll_interval": "pollInterval", "visibility": "Who can see it", "shared_groups": "Groups"}
        help_texts = {
            "poll_interval": POLL_INTERVAL_HELP,
            "shared_groups": (
                "With “Members of chosen groups”: which of your groups. Only you can change it. "
                "Leaving a group does not end the share: untick the group here to end it."
            ),
        }
        widgets = {"visibility": forms.RadioSelect, "shared_groups": forms.CheckboxSelectMultiple}
        field_classes = {"shared_groups": SharedGroupsField}

    def clean_name(self) -> str:
        return _unique_name(self.cleaned_data["name"], owner=self.instance.owner, other_than=self.instance)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An owner shares with groups they belong to, never with strangers' groups; the groups the
        # list is shared with stay listed after the owner leaves them, so the share can be ended.
        shared_groups = self.fields["shared_groups"]
        assert isinstance(shared_groups, SharedGroupsField)
        shared_groups.member_of = frozenset(self.instance.owner.groups.values_list("pk", flat=True))
        shared_groups.queryset = Group.objects.filter(
            Q(pk__in=shared_groups.member_of) | Q(pk__in=self.instance.shared_groups.values("pk"))
        ).order_by("name")

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("visibility") == Visibility.GROUPS and not cleaned.get("shared_groups"):
            self.add_error("shared_groups", "Choose at least one group to share with.")
        return cleaned


class AddJobsForm(forms.Form):
    job_ids = JobIdsField()


class RemoveJobsForm(forms.Form):
    job_ids = JobIdsField(help_text="Paste the IDs to remove from this watchlist.")


class LabelForm(forms.Form):
    label = forms.CharField(max_length=80, required=False, strip=True)


class QuickLookForm(forms.Form):
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), empty_label=None)
    job_ids = JobIdsField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.JOBSITE_MAX_JOBS_PER_QUICK_LOOK
        self.fields["job_ids"].help_text = f"Paste up to {limit:,} job IDs to see their states now, without saving."
