import pytest

from modern.settings import Settings, SettingsError


def test_no_variable_gives_the_embedded_default() -> None:
    settings = Settings.from_env({})
    assert settings.environment == "development"
    assert settings.sqlalchemy_url("/srv/instance") == "sqlite:////srv/instance/telepoints.db"
    assert settings.redis_url is None


def test_postgresql_url_switches_the_database() -> None:
    url = "postgresql+psycopg://app@db.internal/telepoints"
    assert Settings.from_env({"DATABASE_URL": url}).sqlalchemy_url("/x") == url


@pytest.mark.parametrize(("env", "named"), [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
    ({"ENVIRONMENT": "staging"}, "ENVIRONMENT"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"TRUSTED_PROXY_HOPS": "two"}, "TRUSTED_PROXY_HOPS"),
    ({"COURSE_CREDIT_SPACING_DAYS": "0"}, "COURSE_CREDIT_SPACING_DAYS"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"ENVIRONMENT": "production"}, "SECRET_KEY"),
])
def test_a_bad_variable_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    assert named in str(error.value)


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"DATABASE_URL": "oracle://x", "LOG_LEVEL": "LOUD"})
    assert len(error.value.problems) == 2


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.environment = "production"  # type: ignore[misc]
