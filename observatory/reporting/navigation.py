from observatory.access.context import NavItem

NAV_ITEMS: list[NavItem] = [NavItem("Questionnaires", "reporting:list", "reporting.view")]
