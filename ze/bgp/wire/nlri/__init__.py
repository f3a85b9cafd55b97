"""NLRI codecs: prefix walks (RFC 4271 4.3, RFC 4760, RFC 7911 path ids) and the FamilySpec table."""
