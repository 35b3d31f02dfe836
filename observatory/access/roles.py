"""The verbs of the system and the roles of DESIGN.md as named sets of them.

Verbs are ``<area>.<action>``. A role grants its verbs on the scope of each assignment; the policy
module is the only place that interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass

VERBS: dict[str, str] = {
    "reference.manage": "change reference data (countries, substances, taxonomy, factors)",
    "access.manage": "create users, assign roles, revoke tokens",
    "audit.view": "read the audit trail of the scope",
    "reporting.view": "read questionnaire submissions of the scope",
    "reporting.edit": "fill in the questionnaire of the scope",
    "reporting.submit": "submit the questionnaire of the scope",
    "reporting.review": "query, send back and validate submissions of the scope",
    "reporting.approve": "approve (lock) and reopen validated submissions",
    "seizures.view": "read individual seizure cases of the scope, including restricted fields",
    "seizures.import": "upload individual seizure cases for the scope",
    "seizures.analyse": "run trafficking-route analyses over the scope",
    "analysis.run": "produce regional and global estimates, trends and outlier reports",
    "analysis.estimate": "estimate hidden populations and save country estimates for the scope",
    "publication.prepare": "prepare a release and preview it",
    "publication.release": "release, embargo and correct publications",
    "precursors.view": "read pre-export notifications and incidents the scope is party to",
    "precursors.notify": "send and amend pre-export notifications as exporting country",
    "precursors.answer": "answer pre-export notifications as importing country",
    "precursors.report": "report precursor incidents and follow them up",
    "precursors.registry": "maintain the registry of notification requirements and issue special alerts",
    "earlywarning.view": "read NPS identifications and alerts of the scope",
    "earlywarning.identify": "report forensic identifications for the scope",
    "earlywarning.alert": "issue early-warning alerts",
}


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name: str
    description: str
    allowed_scopes: tuple[str, ...]
    verbs: tuple[str, ...]


ROLE_DEFINITIONS: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "focal_point",
        "National focal point / data provider",
        "Fills the annual questionnaire, uploads individual seizure cases, answers review queries.",
        ("country",),
        (
            "reporting.view",
            "reporting.edit",
            "reporting.submit",
            "seizures.view",
            "seizures.import",
            "analysis.estimate",
            "earlywarning.view",
            "audit.view",
        ),
    ),
    RoleDefinition(
        "competent_authority",
        "Competent national authority",
        "Sends and answers pre-export notifications for precursor chemicals.",
        ("country",),
        ("precursors.view", "precursors.notify", "precursors.answer"),
    ),
    RoleDefinition(
        "forensic_focal_point",
        "Law-enforcement / forensic focal point",
        "Reports precursor and NPS incidents, forensic identifications and profiles; gets alerts.",
        ("country",),
        (
            "precursors.view",
            "precursors.report",
            "earlywarning.view",
            "earlywarning.identify",
            "seizures.view",
        ),
    ),
    RoleDefinition(
        "analyst",
        "Office analyst",
        "Validates and reviews submissions, runs estimates, trend and route analyses, prepares publications.",
        ("global", "region"),
        (
            "reporting.view",
            "reporting.review",
            "seizures.view",
            "seizures.analyse",
            "analysis.run",
            "analysis.estimate",
            "publication.prepare",
            "earlywarning.view",
            "earlywarning.alert",
            "audit.view",
        ),
    ),
    RoleDefinition(
        "reviewer",
        "Office reviewer",
        "Approves submissions and publications; manages reference data and release embargoes.",
        ("global",),
        (
            "reporting.view",
            "reporting.approve",
            "publication.prepare",
            "publication.release",
            "reference.manage",
            "access.manage",
            "audit.view",
            "analysis.run",
            "seizures.view",
        ),
    ),
    RoleDefinition(
        "board_officer",
        "Board officer (precursor and NPS control)",
        "Sees all precursor notifications and incidents, issues special alerts.",
        ("global",),
        (
            "precursors.view",
            "precursors.registry",
            "earlywarning.view",
            "earlywarning.alert",
            "audit.view",
        ),
    ),
)

assert all(verb in VERBS for role in ROLE_DEFINITIONS for verb in role.verbs), "role names an unknown verb"
