"""Configuration: env defaults, flags win, mistakes are one-line ConfigErrors, secrets masked."""

import argparse

import pytest

from controlroom.config import Settings, add_arguments, add_history_argument, mask_url
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
        Settings(amqp_urls=(url,))


def test_bad_database_url() -> None:
    with pytest.raises(ConfigError, match="must start with postgresql"):
        Settings(database_url="mysql://localhost/x")


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(amqp_urls=("http://user:hunter2@host/",))
    assert "hunter2" not in str(raised.value)


def test_mask_url() -> None:
    assert mask_url("amqp://guest:secret@host:5672/") == "amqp://guest:***@host:5672/"
    assert mask_url("postgresql:///controlroom") == "postgresql:///controlroom"
    assert "secret" not in Settings(amqp_urls=("amqp://u:secret@h/",)).amqp_display


def test_several_broker_urls_from_repeated_flags_or_commas() -> None:
    one, two, three = "amqp://a@h1/", "amqp://a@h2:5673/", "amqp://a@h3/"
    assert parse(["--amqp-url", one, "--amqp-url", f"{two},{three}"], {}).amqp_urls == (
        one,
        two,
        three,
    )
    from_env = parse([], {"CONTROLROOM_AMQP_URL": f" {one}, {two} ,"})
    assert from_env.amqp_urls == (one, two)
    assert from_env.amqp_url == one
    assert from_env.clustered
    assert not parse(["--amqp-url", one], {"CONTROLROOM_AMQP_URL": f"{two},{three}"}).clustered


def test_the_list_travels_to_a_child_process_whole() -> None:
    settings = Settings(amqp_urls=("amqp://a@h1/", "amqp://a@h2/"))
    assert Settings.from_env(settings.as_env()) == settings


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--amqp-url", ","], "no broker URL"),
        (["--amqp-url", "amqp://h1/", "--amqp-url", "amqp://h1/"], "twice"),
        (["--amqp-url", "amqp://h1/,http://u:hunter2@h2/"], "must start with amqp"),
    ],
)
def test_bad_broker_lists(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        parse(argv, {})
    assert "hunter2" not in str(raised.value)


def test_the_display_masks_every_password() -> None:
    shown = Settings(amqp_urls=("amqp://u:pw1@h1/", "amqp://u:pw2@h2/")).amqp_display
    assert shown == "amqp://u:***@h1/, amqp://u:***@h2/"


def test_queue_type_rule_quorum_on_a_cluster_unless_chosen() -> None:
    cluster = "amqp://h1/,amqp://h2/,amqp://h3/"
    assert parse([], {}).durable_queue_type == "classic"
    assert parse(["--amqp-url", cluster], {}).durable_queue_type == "quorum"
    chosen = parse(["--amqp-url", cluster, "--queue-type", "classic"], {})
    assert chosen.durable_queue_type == "classic"
    assert Settings.from_env(chosen.as_env()) == chosen
    from_env = parse([], {"CONTROLROOM_QUEUE_TYPE": "quorum"})
    assert from_env.durable_queue_type == "quorum"
    assert parse(["--queue-type", "classic"], {"CONTROLROOM_QUEUE_TYPE": "quorum"}).queue_type == (
        "classic"
    )


def test_unknown_queue_type_is_one_line() -> None:
    with pytest.raises(ConfigError, match="queue type 'stream' is not one of quorum, classic"):
        parse([], {"CONTROLROOM_QUEUE_TYPE": "stream"})


def test_history_from_a_standby_when_given() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    add_history_argument(parser)
    standby = "postgresql://reader@standby:5433/controlroom"
    settings = Settings.from_args(parser.parse_args(["--history-url", standby]), {})
    assert settings.for_history().database_url == standby
    assert settings.database_url == "postgresql:///controlroom"  # writers keep the primary
    assert Settings.from_env(settings.as_env()) == settings
    assert Settings().for_history() == Settings()
    with pytest.raises(ConfigError, match="must start with postgresql"):
        Settings(history_url="mysql://standby/x")


def test_the_longest_shelving_comes_from_the_environment_and_travels_to_children() -> None:
    assert Settings.from_env({}).max_shelve_s == 8 * 3600
    settings = Settings.from_env({"CONTROLROOM_MAX_SHELVE": "30m"})
    assert settings.max_shelve_s == 1800
    assert Settings.from_env(settings.as_env()).max_shelve_s == 1800
    assert "CONTROLROOM_MAX_SHELVE" not in Settings.from_env({}).as_env()
    with pytest.raises(ConfigError, match="CONTROLROOM_MAX_SHELVE='8 hours' is not a duration"):
        Settings.from_env({"CONTROLROOM_MAX_SHELVE": "8 hours"})
