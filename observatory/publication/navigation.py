"""Header link to the office's release pages (holders of publication.prepare)."""

from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [NavItem("Releases", "publication:manage", "publication.prepare")]
