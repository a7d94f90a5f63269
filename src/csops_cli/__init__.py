"""csops: Customer Success Operations from your CRM, usage and activity exports."""

__version__ = "0.1.0"
