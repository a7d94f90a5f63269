"""Labels that mean one thing wherever they appear in reports."""

# the group of accounts without a CSM owner, and of those without a segment
UNASSIGNED = "(unassigned)"
NO_SEGMENT = "(no segment)"
