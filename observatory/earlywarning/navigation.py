from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("NPS", "earlywarning:registry", "earlywarning.view"),
    NavItem("Report NPS", "earlywarning:report", "earlywarning.identify"),
    NavItem("NPS alerts", "earlywarning:alerts", "earlywarning.view"),
]
