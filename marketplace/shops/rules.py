"""The platform's rules for sellers; a shop stores the version its owner accepted."""

# Bump when templates/shops/rules.html changes in substance: new shops accept the new text,
# and the stored version tells which text an existing shop agreed to.
RULES_VERSION = "2026-01"
