from tests.accounts.support import app, provider, settings_overrides

__all__ = ["app", "provider", "settings_overrides"]
