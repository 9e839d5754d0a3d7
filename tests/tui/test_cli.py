"""`controlroom` on the command line: mistakes end as one line and status 2, before any UI."""

from __future__ import annotations

import pytest

from controlroom.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--plant", "Bad-Name"], "plant name 'Bad-Name' is not usable"),
        (["--amqp-url", "http://x"], "must start with amqp://"),
        (["--operator", " "], "--operator needs a name"),
        (["down"], "invalid choice: 'down'"),
        (["--replay", "yesterday"], "--replay 'yesterday' is not a moment"),
        (["--replay", "2999-01-01T00:00Z"], "is not in the past"),
        (["--replay-speed", "7"], "invalid choice: 7"),
    ],
)
def test_bad_input_is_one_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors leave this way
        status = int(exit_.code or 0)
    assert status == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
