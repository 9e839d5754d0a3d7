"""Configuration: env defaults, flags win, mistakes are one-line ConfigErrors, secrets masked."""

import argparse

import pytest

from controlroom.config import Settings, add_arguments, mask_url
from controlroom.errors import ConfigError


def parse(argv: list[str], env: dict[str, str]) -> Settings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return Settings.from_args(parser.parse_args(argv), env)


def test_flags_win_over_environment() -> None:
    env = {"CONTROLROOM_PLANT": "envplant", "CONTROLROOM_AMQP_URL": "amqp://a@h1/"}
    settings = parse(["--plant", "flagplant"], env)
    assert settings.plant == "flagplant"
    assert settings.amqp_url == "amqp://a@h1/"


def test_defaults() -> None:
    settings = parse([], {})
    assert settings == Settings()
    assert settings.plant == "plant"


@pytest.mark.parametrize(
    "plant",
    ["", "Plant", "1plant", "a-b", "a.b", 'x"; drop table sensor; --', "x" * 41, "ünï"],
)
def test_unusable_plant_names(plant: str) -> None:
    with pytest.raises(ConfigError, match="plant name"):
        Settings(plant=plant)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://localhost/", "must start with amqp"),
        ("amqp://host:99999/", "malformed"),
        ("amqp:///", "names no host"),
    ],
)
def test_bad_broker_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(amqp_url=url)


def test_bad_database_url() -> None:
    with pytest.raises(ConfigError, match="must start with postgresql"):
        Settings(database_url="mysql://localhost/x")


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(amqp_url="http://user:hunter2@host/")
    assert "hunter2" not in str(raised.value)


def test_mask_url() -> None:
    assert mask_url("amqp://guest:secret@host:5672/") == "amqp://guest:***@host:5672/"
    assert mask_url("postgresql:///controlroom") == "postgresql:///controlroom"
    assert "secret" not in Settings(amqp_url="amqp://u:secret@h/").amqp_display
