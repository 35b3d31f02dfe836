"""Pure export kernels for publication: statistical annex workbooks and spreadsheet-safe CSV."""
