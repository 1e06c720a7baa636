"""What every domain shares: models' base types, money and Vietnamese text, errors, auth."""
