"""Precursor control tables: pre-export notifications (versioned), the registry of notification
requirements, incidents with their route, chemicals and parties, follow-up threads and alerts.

Tables only: every write goes through ``services``, every read through ``queries``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from observatory.access.policy import Classification
from observatory.precursors.kernels.workflow import State
from observatory.reference.models import ControlledSubstance, Country, Unit

CLASSIFICATION_CHOICES = [(c.value, c.value) for c in Classification]


class Operator(models.Model):
    """A company or a person named on a notification or an incident, with the address as reported."""

    class Kind(models.TextChoices):
        COMPANY = "company", "company"
        PERSON = "person", "person"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(max_length=300)
    address = models.CharField(max_length=500, blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    nationality = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # persons only
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["country", "name"])]

    def __str__(self) -> str:
        return f"{self.name}, {self.address} ({self.country.iso3})" if self.address else self.name


class NotificationRequirement(models.Model):
    """An importing country requires pre-export notification for a substance (or for every substance
    of Tables I and II when ``substance`` is empty) and answers within its reply period (Annex VI style)."""

    importing_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    substance = models.ForeignKey(
        ControlledSubstance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_period_days = models.PositiveSmallIntegerField()
    legal_basis = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["importing_country__name", "substance__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["importing_country", "substance"],
                condition=models.Q(substance__isnull=False),
                name="precursor_requirement_country_substance",
            ),
            models.UniqueConstraint(
                fields=["importing_country"],
                condition=models.Q(substance__isnull=True),
                name="precursor_requirement_country_all_tables",
            ),
            models.CheckConstraint(
                condition=models.Q(reply_period_days__gte=1), name="precursor_requirement_period_positive"
            ),
        ]

    def __str__(self) -> str:
        what = self.substance.name if self.substance else "all Table I/II substances"
        return f"{self.importing_country.iso3}: {what}, {self.reply_period_days} days"


class Notification(models.Model):
    """One version of a pre-export notification. A sent version is never edited: an amendment is a new
    row pointing at the one it replaces (``amends``); the replaced row gets ``superseded_at``."""

    class TransportMode(models.TextChoices):
        AIR = "air", "air"
        SEA = "sea", "sea"
        ROAD = "road", "road"
        RAIL = "rail", "rail"
        POST = "post", "post"
        COURIER = "courier", "courier"
        MULTIMODAL = "multimodal", "multimodal"

    class Answer(models.TextChoices):
        NO_OBJECTION = "no_objection", "no objection"
        OBJECTION = "objection", "objection"
        INFORMATION_REQUESTED = "information_requested", "information requested"

    reference = models.CharField(max_length=40, db_index=True)  # shared by every version
    version = models.PositiveSmallIntegerField(default=1)
    amends = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=30, choices=[(s.value, s.value) for s in State], default=State.DRAFT)

    exporting_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    importing_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    substance = models.ForeignKey(
        ControlledSubstance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    substance_name = models.CharField(max_length=200)  # as reported; the only name of a non-scheduled one
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    mixture_percentage = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    transport_mode = models.CharField(max_length=12, choices=TransportMode.choices)
    transit_countries = models.ManyToManyField(Country, through="ItineraryStop", related_name="+")
    point_of_entry = models.CharField(max_length=200, blank=True)
    expected_dispatch_date = models.DateField(null=True, blank=True)
    licence_number = models.CharField(max_length=80, blank=True)
    invoice_number = models.CharField(max_length=80, blank=True)

    exporter = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    importer = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    consignee = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    other_operators = models.ManyToManyField(Operator, blank=True, related_name="+")

    requirement = models.ForeignKey(
        NotificationRequirement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_period_days = models.PositiveSmallIntegerField()  # copied from the registry when created
    sent_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=30, choices=Answer.choices, blank=True)
    answer_text = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    classification = models.CharField(
        max_length=12, choices=CLASSIFICATION_CHOICES, default=Classification.CONFIDENTIAL.value
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reference", "version"], name="precursor_notification_version"),
            models.CheckConstraint(
                condition=~models.Q(exporting_country=models.F("importing_country")),
                name="precursor_notification_two_countries",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="precursor_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["importing_country", "state", "deadline"], name="precursor_inbox"),
            models.Index(fields=["exporting_country", "created_at"], name="precursor_outbox"),
            models.Index(fields=["state", "deadline"], name="precursor_due"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class ItineraryStop(models.Model):
    """A transit country on the notified itinerary, in order."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="itinerary")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["notification", "position"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "position"], name="precursor_itinerary_position")
        ]


class NotificationEvent(models.Model):
    """A transition of a notification, for its history on the page (the audit trail holds the proof)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    from_state = models.CharField(max_length=30)
    to_state = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField()
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Incident(models.Model):
    """A precursor incident reported by a law-enforcement or regulatory focal point."""

    class Kind(models.TextChoices):
        SEIZURE = "seizure", "seizure"
        STOPPED_SHIPMENT = "stopped_shipment", "stopped shipment"
        ILLICIT_LABORATORY = "illicit_laboratory", "illicit laboratory"
        SUSPICIOUS_ORDER = "suspicious_order", "suspicious order"

    class ModusOperandi(models.TextChoices):
        MISLABELLING = "mislabelling", "mislabelling"
        MISDECLARATION = "misdeclaration", "misdeclaration"
        COMPANY_SHOPPING = "company_shopping", "company shopping"
        DESIGNER_PRECURSOR = "designer_precursor", "designer precursor"
        INTERNET_ORDERING = "internet_ordering", "Internet ordering"
        POSTAL_COURIER = "postal_courier", "postal or courier"

    reference = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reporting_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    occurred_on = models.DateField()
    summary = models.TextField(blank=True)
    modus_operandi = models.JSONField(default=list)  # codes of ModusOperandi
    classification = models.CharField(
        max_length=12, choices=CLASSIFICATION_CHOICES, default=Classification.CONFIDENTIAL.value
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["reporting_country", "created_at"])]

    def __str__(self) -> str:
        return self.reference


class IncidentChemical(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="chemicals")
    substance = models.ForeignKey(
        ControlledSubstance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    substance_name = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class RouteLeg(models.Model):
    """A country on the incident's route as source, transit or destination, in order."""

    class Role(models.TextChoices):
        SOURCE = "source", "source"
        TRANSIT = "transit", "transit"
        DESTINATION = "destination", "destination"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="route")
    role = models.CharField(max_length=12, choices=Role.choices)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["incident", "position"]


class IncidentParty(models.Model):
    """A company or person involved in an incident (a person's nationality is on the operator)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="parties")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=60, blank=True)  # "consignee", "buyer", "courier"…


class Involvement(models.Model):
    """Why a country is party to an incident: derived by the service from the report, used to scope
    reads and to fan alerts out."""

    class Basis(models.TextChoices):
        REPORTING = "reporting", "reporting country"
        SOURCE = "source", "source"
        TRANSIT = "transit", "transit"
        DESTINATION = "destination", "destination"
        NATIONALITY = "nationality", "nationality of a person involved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="involvements")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(max_length=12, choices=Basis.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "country", "basis"], name="precursor_involvement_unique"
            )
        ]
        indexes = [models.Index(fields=["country", "incident"])]


class IncidentMessage(models.Model):
    """A follow-up message in an incident's thread."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=150)
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # empty: the board
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]


class SpecialAlert(models.Model):
    """A special alert issued by the board (new modus operandi, substitute chemical, …)."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    substance_name = models.CharField(max_length=200, blank=True)
    modus_operandi = models.JSONField(default=list)
    recipients = models.ManyToManyField(Country, related_name="+")  # every country when issued to all
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]


class Alert(models.Model):
    """An in-app notification to a country (all its precursor users) or to the board."""

    class Kind(models.TextChoices):
        NOTIFICATION_RECEIVED = "notification_received", "pre-export notification received"
        NOTIFICATION_AMENDED = "notification_amended", "pre-export notification amended"
        NOTIFICATION_ANSWERED = "notification_answered", "pre-export notification answered"
        NOTIFICATION_EXPIRED = "notification_expired", "pre-export notification expired"
        NOTIFICATION_CLOSED = "notification_closed", "shipment recorded or cancelled"
        INCIDENT = "incident", "incident involving your country"
        INCIDENT_MESSAGE = "incident_message", "follow-up on an incident"
        SPECIAL = "special", "special alert from the board"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    recipient_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_board = models.BooleanField(default=False)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    special_alert = models.ForeignKey(
        SpecialAlert, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient_country__isnull=False, to_board=False)
                | models.Q(recipient_country__isnull=True, to_board=True),
                name="precursor_alert_one_recipient",
            )
        ]
        indexes = [models.Index(fields=["recipient_country", "created_at"])]


class AlertRead(models.Model):
    """A user has read an alert (read state is per user, the alert is per country)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "user"], name="precursor_alert_read_once")]
