"""Pure computation kernels of the seizures app: no Django imports, only Python, numpy and networkx.

- `generator`: deterministic synthetic individual-seizure CSV files in the IDS-style column layout.
- `rows`: fast parser, validator and normaliser for uploaded seizure rows (all errors, row/column/reason).
- `routes`: trafficking flow network, transit hubs, chokepoints and emerging routes.
"""
