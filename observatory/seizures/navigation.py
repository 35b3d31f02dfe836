from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Seizures", "seizures:cases", "seizures.view"),
    NavItem("Routes", "seizures:routes", "seizures.analyse"),
    NavItem("Upload seizures", "seizures:upload", "seizures.import"),
]
