"""Every domain's models, imported in one place for metadata and migrations."""

from marketplace.accounts.models import Role, User

__all__ = ["Role", "User"]
