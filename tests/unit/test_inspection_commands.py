import pytest

from demos.server.inspection import Command, CommandError, parse_command


@pytest.mark.parametrize(
    ('text', 'command'),
    [
        ('{"id": 1, "do": "start"}', Command(1, 'start')),
        ('{"id": 2, "do": "start", "rate_per_s": 5}', Command(2, 'start', rate_per_s=5.0)),
        ('{"do": "rate", "rate_per_s": 0.1}', Command(None, 'rate', rate_per_s=0.1)),
        ('{"id": 3, "do": "close_echo", "code": 1011}', Command(3, 'close_echo', code=1011)),
        ('{"id": 4, "do": "close_echo"}', Command(4, 'close_echo', code=1000)),
        ('{"id": 5, "do": "pause_echo", "seconds": 3}', Command(5, 'pause_echo', seconds=3.0)),
        ('{"id": 6, "do": "restart", "seconds": 10}', Command(6, 'restart', seconds=10.0)),
        ('{"id": 7, "do": "ping_echo"}', Command(7, 'ping_echo')),
    ],
)
def test_commands_are_read_with_their_arguments(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    'text',
    [
        b'{"do": "stop"}',
        'nope',
        '[1]',
        '"stop"',
        '{"do": "rm -rf"}',
        '{"id": "1", "do": "stop"}',
        '{"id": false, "do": "stop"}',
        '{"do": "rate"}',
        '{"do": "rate", "rate_per_s": 0}',
        '{"do": "rate", "rate_per_s": 101}',
        '{"do": "rate", "rate_per_s": NaN}',
        '{"do": "rate", "rate_per_s": true}',
        '{"do": "close_echo", "code": 1006}',
        '{"do": "close_echo", "code": true}',
        '{"do": "pause_echo"}',
        '{"do": "pause_echo", "seconds": 11}',
        '{"do": "restart", "seconds": 0.1}',
        '[' * 100_000,
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str | bytes) -> None:
    with pytest.raises(CommandError) as refused:
        parse_command(text)
    assert str(refused.value)
