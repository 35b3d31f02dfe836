"""Annual report questionnaire: instruments (synced from their definition files), national submissions,
reported values, analyst queries on cells and invitations of data providers to modules. Tables only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from observatory.reference.models import Country


class Instrument(models.Model):
    """A versioned questionnaire; its definition file (kernels) is the source of truth, mirrored here."""

    code = models.CharField(max_length=40)
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    definition_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version")]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} {self.version}"


class Module(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="modules")
    code = models.CharField(max_length=60)
    title = models.CharField(max_length=300)
    part = models.CharField(max_length=20)
    sheet = models.CharField(max_length=31)
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="module_instrument_code")]
        ordering = ["instrument", "position"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A data element: value type, unit and the dimensions (with allowed and required codes) it uses."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="questions")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="questions")
    code = models.CharField(max_length=60)
    label = models.CharField(max_length=500)
    value_type = models.CharField(max_length=20)
    unit = models.CharField(max_length=40, blank=True)
    mandatory = models.BooleanField(default=False)
    dimensions = models.JSONField(default=list)  # [{"dimension", "codes", "required"}]
    options = models.JSONField(default=list)  # [{"code", "label"}] for choice questions
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="question_instrument_code")
        ]
        ordering = ["module", "position"]

    def __str__(self) -> str:
        return self.code


class Submission(models.Model):
    """One country's answers to one instrument for one year.

    ``origin`` separates the questionnaire a country fills from historical series imported beside it
    (annex 1.2), so both can exist for the same country and year.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SUBMITTED = "submitted", "submitted"
        UNDER_REVIEW = "under_review", "under review"
        VALIDATED = "validated", "validated"
        APPROVED = "approved", "approved"

    class Origin(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", "questionnaire"
        ANNEX_1_2 = "annex_1_2", "World Drug Report annex 1.2 (historical)"

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="submissions")
    year = models.PositiveSmallIntegerField()
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="submissions")
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.QUESTIONNAIRE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)  # the reason of the last back-transition
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "year", "instrument", "origin"], name="submission_country_year"
            )
        ]
        indexes = [models.Index(fields=["year", "status"])]
        ordering = ["-year", "country__name"]

    def __str__(self) -> str:
        return f"{self.country_id} {self.year} {self.instrument_id} ({self.status})"

    @property
    def locked(self) -> bool:
        return self.status == self.Status.APPROVED


class Value(models.Model):
    """One reported cell, stored as reported, with its provenance and an optimistic-lock version.

    The cell is the question code plus the canonical dimension string (``dim=code`` pairs sorted by
    dimension, joined by ``;``). ``entry`` numbers separate reports of the same cell (the annex can hold
    two surveys of one country and year); questionnaire values always use entry 0.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="values")
    question = models.CharField(max_length=60)
    dims = models.CharField(max_length=300, blank=True)
    entry = models.PositiveSmallIntegerField(default=0)
    value = models.JSONField()  # number, text, choice code, [first, last] year range, {"not_known": true}
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=40, blank=True)
    adjustment_codes = models.JSONField(default=list, blank=True)
    provenance = models.JSONField(default=dict, blank=True)  # file/sheet/row/cell, attributes as reported
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    previous = models.JSONField(null=True, blank=True)  # the value before the last change (audit has all)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "question", "dims", "entry"], name="value_cell_entry"
            )
        ]
        indexes = [models.Index(fields=["question", "dims"])]


class ValueSnapshot(models.Model):
    """The entry-0 cells of one submission in two JSON texts (``kernels.cells.Snapshot``): the cell ids,
    named by their digest ``layout``, and the stored values in the same order. Validation reads one row
    per submission instead of thousands, and parses the list of cells once per layout.

    Derived data: the services rewrite it in the same transaction as every change of the submission's
    values (``services.refresh_snapshots``); the ``Value`` rows stay the record.
    """

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, primary_key=True, related_name="snapshot"
    )
    layout = models.CharField(max_length=64)
    # values before cells: a reader of values must not walk the (long) cells' overflow pages to reach them
    values = models.TextField()
    cells = models.TextField()


class Query(models.Model):
    """An analyst's question on one cell of a submission, with a thread of messages."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        ANSWERED = "answered", "answered"
        CLOSED = "closed", "closed"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="queries")
    question = models.CharField(max_length=60)
    dims = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "queries"


class QueryMessage(models.Model):
    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


class ModuleInvitation(models.Model):
    """A focal point asks another data provider of the same country to fill the named modules.

    A provider holding invitations on a submission edits only the modules they were invited to.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    modules = models.JSONField(default=list)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    message = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "invitee"], name="invitation_submission_invitee")
        ]
