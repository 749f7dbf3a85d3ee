"""The trap names MUTT knows out of the box (pure data; loaded by migration 0012)."""

_IF_INDEX = "1.3.6.1.2.1.2.2.1.1"  # IF-MIB ifIndex
# (oid_pattern, match_kind, trap_name, vendor, category, default_severity, clear_oid_pattern, instance_varbind, description)
STANDARD_TRAPS = [
    ("1.3.6.1.6.3.1.1.5.1", "exact", "coldStart", "standard", "system", 5, None, None, "Agent reinitialised; configuration may have changed"),
    ("1.3.6.1.6.3.1.1.5.2", "exact", "warmStart", "standard", "system", 5, None, None, "Agent reinitialised; configuration unchanged"),
    ("1.3.6.1.6.3.1.1.5.3", "exact", "linkDown", "standard", "interface", 3, "1.3.6.1.6.3.1.1.5.4", _IF_INDEX, "A communication link went down"),
    ("1.3.6.1.6.3.1.1.5.4", "exact", "linkUp", "standard", "interface", 5, None, _IF_INDEX, "A communication link came up"),
    ("1.3.6.1.6.3.1.1.5.5", "exact", "authenticationFailure", "standard", "security", 4, None, None, "SNMP request with bad community or credentials"),
    ("1.3.6.1.2.1.15.7.2", "exact", "bgpBackwardTransition", "standard", "routing", 3, "1.3.6.1.2.1.15.7.1", "1.3.6.1.2.1.15.3.1.7", "BGP session left Established"),
    ("1.3.6.1.2.1.15.7.1", "exact", "bgpEstablished", "standard", "routing", 5, None, "1.3.6.1.2.1.15.3.1.7", "BGP session reached Established"),
    ("1.3.6.1.2.1.47.2.0.1", "exact", "entConfigChange", "standard", "inventory", 5, None, None, "Entity MIB changed"),
    ("1.3.6.1.4.1.9.9.43.2.0.1", "exact", "ciscoConfigManEvent", "cisco", "config", 5, None, None, "Cisco configuration change"),
    ("1.3.6.1.4.1.9.9.13.3.0.5", "exact", "ciscoEnvMonFanNotification", "cisco", "hardware", 2, None, None, "Cisco fan failure"),
    ("1.3.6.1.4.1.2636.4.1.1", "exact", "jnxPowerSupplyFailure", "juniper", "hardware", 2, "1.3.6.1.4.1.2636.4.2.1", None, "Juniper power supply failed"),
    ("1.3.6.1.4.1.2636.4.2.1", "exact", "jnxPowerSupplyOK", "juniper", "hardware", 5, None, None, "Juniper power supply recovered"),
]  # fmt: skip


def standard_traps_load(OidMapping) -> None:  # noqa: N803  (a model class, historical or live)
    """Create the standard mappings that are missing (tests call it after a flush)."""
    for pattern, kind, name, vendor, category, severity, clear, varbind, description in STANDARD_TRAPS:
        OidMapping.objects.get_or_create(
            oid_pattern=pattern,
            match_kind=kind,
            defaults={
                "trap_name": name,
                "vendor": vendor,
                "category": category,
                "default_severity": severity,
                "clear_oid_pattern": clear,
                "instance_varbind": varbind,
                "description": description,
            },
        )
