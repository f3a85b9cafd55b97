"""Path attributes: one module per attribute, each exporting SPEC (an AttrSpec)."""
