"""Member accounts: registration, log-in, passwords, profiles, roles and bans."""
