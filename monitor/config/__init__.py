"""Configuration: TOML into validated values, every problem reported at once."""
