"""Security: secret encryption (identity, tokens, RBAC and audit join it later)."""

from apg_workflow.security.secrets import (
    DEV_SECRET_KEY,
    KeyRing,
    Sealed,
    SecretKeyError,
    generate_key,
    key_id,
    keyring_from_settings,
    load_keyring,
)

__all__ = [
    "DEV_SECRET_KEY",
    "KeyRing",
    "Sealed",
    "SecretKeyError",
    "generate_key",
    "key_id",
    "keyring_from_settings",
    "load_keyring",
]
