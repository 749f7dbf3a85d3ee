from django.db import models


class MatchTypeChoices(models.TextChoices):
    CONTAINS = "contains", "Contains (substring)"
    REGEX = "regex", "Regex (RE2)"
    OID_PREFIX = "oid_prefix", "SNMP trap OID prefix"
    SEVERITY = "severity", "Syslog severity only"
    TRAP_NAME = "trap_name", "SNMP trap name (from the OID mappings)"
    LOOKUP = "lookup", "Enriched field from a lookup table (field=value)"


class HandlingChoices(models.TextChoices):
    PAGE_AND_TICKET = "Page_and_ticket", "Page and ticket"
    PAGE_ONLY = "Page_only", "Page only"
    TICKET_ONLY = "Ticket_only", "Ticket only"
    EMAIL_ONLY = "Email_only", "E-mail only"
    LOG_ONLY = "Log_only", "Log only"
    SUPPRESS = "Suppress", "Suppress"


# "Ignore" from the v2.3 schema is accepted on input and stored as Suppress.
HANDLING_ALIASES = {"Ignore": HandlingChoices.SUPPRESS.value}


class SourceChoices(models.TextChoices):
    SYSLOG = "syslog", "Syslog"
    SNMP = "snmp", "SNMP trap"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing (leased)"
    DONE = "done", "Done"
    DEAD = "dead", "Dead (see dead letters)"


class ForwardStatus(models.TextChoices):
    NONE = "none", "Not forwarded"
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead-lettered"


class DeadLetterStage(models.TextChoices):
    CLASSIFY = "classify", "Classify"
    FORWARD = "forward", "Forward"


class DeadLetterStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REPLAYED = "replayed", "Replayed"
    POISONED = "poisoned", "Poisoned"
    DISCARDED = "discarded", "Discarded"


class AuditOperation(models.TextChoices):
    CREATE = "CREATE", "Create"
    UPDATE = "UPDATE", "Update"
    DELETE = "DELETE", "Delete"


class ApiKeyScope(models.TextChoices):
    """What an operator API key may do: read (GET only), write (configuration and dead letters), admin (all)."""

    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"
