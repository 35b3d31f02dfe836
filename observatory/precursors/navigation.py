from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Precursors", "precursors:inbox", "precursors.view"),
    NavItem("Precursor patterns", "precursors:patterns", "precursors.registry"),
]
