from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Estimates", "analysis:estimates", "analysis.run"),
    NavItem("Seizure trends", "analysis:trends", "analysis.run"),
    NavItem("Hidden populations", "analysis:hidden_population", "analysis.estimate"),
]
