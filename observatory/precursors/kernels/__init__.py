"""Pure computation kernels for precursor control (no Django): notification workflow and patterns."""
