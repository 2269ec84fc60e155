from demos.protocol import session_ids
from demos.server.sessions import check_session_id


def test_an_issued_id_is_genuine_for_its_key_only() -> None:
    key, other = session_ids.new_key(), session_ids.new_key()
    issued = session_ids.issue(key)
    assert session_ids.is_genuine(key, issued)
    assert not session_ids.is_genuine(other, issued)
    assert check_session_id(issued) == issued  # fits the echo server's id pattern


def test_ids_are_unguessable_and_tampering_shows() -> None:
    key = session_ids.new_key()
    issued = {session_ids.issue(key) for _ in range(1000)}
    assert len(issued) == 1000
    nonce, signature = next(iter(issued)).split('.')
    flipped = signature[:-1] + ('A' if signature[-1] != 'A' else 'B')
    forgeries = (f'{nonce}.{flipped}', nonce, f'{nonce}.', f'.{signature}', 'default', 'ev1', f'{nonce}x.{signature}')
    for forged in forgeries:
        assert not session_ids.is_genuine(key, forged), forged
