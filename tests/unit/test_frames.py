"""The frame decoder against frames serialized by the websockets library itself."""

import random
import struct

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Close, Frame, Opcode
from websockets.utils import apply_mask as websockets_apply_mask

from demos.protocol.frames import (
    MAX_CONTROL_PAYLOAD,
    MAX_HEADER_SIZE,
    PREVIEW_SIZE,
    FrameError,
    FrameInfo,
    FrameSplitter,
    apply_mask,
    decode_frame,
    describe,
)


def wire(opcode: Opcode, data: bytes, *, mask: bool, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=mask, extensions=[])


def decode_all(data: bytes) -> FrameInfo:
    decoded = decode_frame(data)
    assert decoded is not None
    frame, consumed = decoded
    assert consumed == len(data)
    return frame


@pytest.mark.parametrize(
    ('opcode', 'name'),
    [
        (Opcode.TEXT, 'text'),
        (Opcode.BINARY, 'binary'),
        (Opcode.PING, 'ping'),
        (Opcode.PONG, 'pong'),
    ],
)
@pytest.mark.parametrize('mask', [True, False])
def test_every_opcode_decodes_with_its_name(opcode: Opcode, name: str, mask: bool) -> None:
    frame = decode_all(wire(opcode, b'hello', mask=mask))
    assert (frame.opcode, frame.opcode_name, frame.fin) == (opcode, name, True)
    assert (frame.rsv1, frame.rsv2, frame.rsv3) == (False, False, False)
    assert frame.payload_preview == b'hello'
    assert frame.close_code is None and frame.close_reason is None


def test_a_fragmented_message_is_a_non_final_frame_then_a_continuation() -> None:
    first = decode_all(wire(Opcode.TEXT, b'hel', mask=True, fin=False))
    rest = decode_all(wire(Opcode.CONT, b'lo', mask=True))
    assert (first.opcode_name, first.fin) == ('text', False)
    assert (rest.opcode, rest.opcode_name, rest.fin) == (0, 'continuation', True)
    assert first.payload_preview + rest.payload_preview == b'hello'


@pytest.mark.parametrize('mask', [True, False])
def test_close_frame_carries_code_and_reason(mask: bool) -> None:
    frame = decode_all(wire(Opcode.CLOSE, Close(1001, 'going away ✓').serialize(), mask=mask))
    assert (frame.opcode_name, frame.close_code, frame.close_reason) == ('close', 1001, 'going away ✓')
    assert frame.is_control
    assert describe(frame).startswith("close 1001 'going away ✓', FIN, ")


def test_close_frame_without_body_has_no_code() -> None:
    frame = decode_all(wire(Opcode.CLOSE, b'', mask=False))
    assert (frame.payload_length, frame.close_code, frame.close_reason) == (0, None, None)
    assert describe(frame) == 'close without a code, FIN, unmasked, 7-bit length 0, header 2 bytes'


@pytest.mark.parametrize(
    ('size', 'form', 'unmasked_header'),
    [
        (0, '7-bit', 2),
        (125, '7-bit', 2),
        (126, '16-bit', 4),
        (65_535, '16-bit', 4),
        (65_536, '64-bit', 10),
    ],
)
@pytest.mark.parametrize('mask', [True, False])
def test_the_three_length_forms(size: int, form: str, unmasked_header: int, mask: bool) -> None:
    data = wire(Opcode.BINARY, bytes(range(256)) * (size // 256) + bytes(size % 256), mask=mask)
    frame = decode_all(data)
    assert (frame.payload_length, frame.length_form, frame.length_is_minimal) == (size, form, True)
    assert frame.header_size == unmasked_header + (4 if mask else 0)
    assert frame.frame_size == len(data)


def test_masked_frame_shows_key_and_both_previews() -> None:
    data = wire(Opcode.TEXT, b'A' * 126, mask=True)
    frame = decode_all(data)
    key = data[4:8]
    assert frame.masked and frame.masking_key == key
    assert frame.wire_preview == data[8 : 8 + PREVIEW_SIZE]
    assert frame.payload_preview == b'A' * PREVIEW_SIZE
    assert frame.wire_preview == bytes(ord('A') ^ key[i % 4] for i in range(PREVIEW_SIZE))
    assert describe(frame) == f'text, FIN, masked with {key.hex()}, 16-bit length 126, header 8 bytes'


def test_unmasked_frame_previews_are_the_same_bytes() -> None:
    frame = decode_all(wire(Opcode.TEXT, b'server says hi', mask=False))
    assert (frame.masked, frame.masking_key) == (False, None)
    assert frame.wire_preview == frame.payload_preview == b'server says hi'
    assert describe(frame) == 'text, FIN, unmasked, 7-bit length 14, header 2 bytes'


def test_masking_is_its_own_inverse() -> None:
    key = bytes.fromhex('1a2b3c4d')
    assert apply_mask(apply_mask(b'hello, world', key), key) == b'hello, world'
    assert apply_mask(b'\x00' * 6, key) == key + key[:2]


def test_masking_agrees_with_websockets() -> None:
    """websockets' own apply_mask (its C speed-up when built) as the oracle: every length around its 4- and 8-byte
    strides, random keys and payloads."""
    rng = random.Random(6455)
    for length in [*range(0, 40), 125, 126, 1000, 65_536]:
        data, key = rng.randbytes(length), rng.randbytes(4)
        assert apply_mask(data, key) == websockets_apply_mask(data, key), (length, key.hex())


def test_permessage_deflate_sets_rsv1_and_the_preview_shows_compressed_bytes() -> None:
    deflate = PerMessageDeflate(False, False, 15, 15)
    text = b'compress me, compress me, compress me, compress me'
    data = Frame(Opcode.TEXT, text).serialize(mask=True, extensions=[deflate])
    frame = decode_all(data)
    assert frame.rsv1 and frame.payload_length < len(text)
    assert frame.payload_preview != text[:PREVIEW_SIZE]
    assert ', FIN, RSV1, masked with ' in describe(frame)


def test_incomplete_data_decodes_to_none() -> None:
    data = wire(Opcode.TEXT, b'x' * 200, mask=True)
    assert all(decode_frame(data[:cut]) is None for cut in (0, 1, 2, 7, 8, len(data) - 1))


def test_decode_frame_reports_bytes_consumed_and_leaves_the_rest() -> None:
    data = wire(Opcode.TEXT, b'one', mask=False) + wire(Opcode.PING, b'', mask=False)
    decoded = decode_frame(data)
    assert decoded is not None
    frame, consumed = decoded
    assert (frame.payload_preview, consumed) == (b'one', 5)
    decoded = decode_frame(data[consumed:])
    assert decoded is not None and decoded[0].opcode_name == 'ping'


def test_non_minimal_length_decodes_and_is_noted() -> None:
    data = struct.pack('!BBH', 0x81, 126, 5) + b'hello'
    frame = decode_all(data)
    assert (frame.payload_length, frame.length_form, frame.length_is_minimal) == (5, '16-bit', False)
    assert describe(frame) == 'text, FIN, unmasked, 16-bit length 5 (longer form than needed), header 4 bytes'
    frame = decode_all(struct.pack('!BBQ', 0x82, 127, 126) + bytes(126))
    assert (frame.length_form, frame.length_is_minimal) == ('64-bit', False)


def test_reserved_opcode_and_bits_are_shown_not_rejected() -> None:
    frame = decode_all(bytes([0x80 | 0x20 | 0x10 | 0x3, 0]))
    assert (frame.opcode, frame.opcode_name, frame.rsv2, frame.rsv3) == (3, 'reserved', True, True)
    assert describe(frame) == 'reserved opcode 0x3, FIN, RSV2, RSV3, unmasked, 7-bit length 0, header 2 bytes'


def test_a_stream_in_one_byte_chunks_gives_every_frame() -> None:
    sent = [
        wire(Opcode.TEXT, b'hello', mask=True),
        wire(Opcode.PING, b'', mask=True),
        wire(Opcode.BINARY, bytes(126), mask=True),
        wire(Opcode.TEXT, b'x' * 65_536, mask=False),
        wire(Opcode.PONG, b'', mask=False),  # an empty frame last: emitted as soon as its header completes
    ]
    stream = b''.join(sent)
    splitter = FrameSplitter()
    frames: list[FrameInfo] = []
    for index in range(len(stream)):
        frames += splitter.feed(stream[index : index + 1])
        assert splitter.buffered <= MAX_HEADER_SIZE + PREVIEW_SIZE
    assert frames == [decode_all(data) for data in sent]
    assert splitter.at_frame_boundary


def test_a_whole_stream_in_one_chunk_gives_every_frame() -> None:
    sent = [wire(Opcode.TEXT, b'a' * size, mask=True) for size in (0, 1, 125, 126, 65_536)]
    assert FrameSplitter().feed(b''.join(sent)) == [decode_all(data) for data in sent]


def test_a_large_announced_payload_is_counted_not_kept() -> None:
    size = 4 * 2**20
    header = struct.pack('!BBQ', 0x82, 127, size)
    chunk = bytes(range(256)) * 256  # 64 KiB
    splitter = FrameSplitter()
    assert splitter.feed(header) == []
    for _ in range(size // len(chunk) - 1):
        assert splitter.feed(chunk) == []
        assert splitter.buffered == PREVIEW_SIZE
    assert not splitter.at_frame_boundary
    following = wire(Opcode.TEXT, b'next', mask=False)
    [frame] = splitter.feed(chunk + following[:1])
    assert (frame.payload_length, frame.length_form, frame.payload_preview) == (size, '64-bit', chunk[:PREVIEW_SIZE])
    assert splitter.buffered == 1  # the first byte of the following header, nothing of the big payload
    [after] = splitter.feed(following[1:])
    assert after.payload_preview == b'next'


def test_a_header_announcing_the_maximum_length_costs_nothing() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(struct.pack('!BBQ', 0x82, 127, 2**63 - 1) + bytes(1000)) == []
    assert splitter.buffered == PREVIEW_SIZE


def test_preview_size_is_a_parameter() -> None:
    data = wire(Opcode.TEXT, b'abcdefgh', mask=True)
    [frame] = FrameSplitter(preview_size=3).feed(data)
    assert frame.payload_preview == b'abc' and frame.payload_length == 8
    decoded = decode_frame(data, preview_size=0)
    assert decoded is not None and decoded[0].payload_preview == b''


def test_a_close_body_is_read_whole_even_past_the_preview() -> None:
    reason = 'r' * (MAX_CONTROL_PAYLOAD - 2)
    [frame] = FrameSplitter(preview_size=4).feed(wire(Opcode.CLOSE, Close(1000, reason).serialize(), mask=True))
    assert (frame.close_code, frame.close_reason, len(frame.payload_preview)) == (1000, reason, 4)


@pytest.mark.parametrize(
    ('data', 'message'),
    [
        (struct.pack('!BBQ', 0x82, 127, 2**63), 'most significant bit'),
        (struct.pack('!BBH', 0x89, 126, 126), 'at most 125'),
        (bytes([0x09, 0]), 'cannot be fragmented'),
        (bytes([0x88, 1, 0x03]), '1-byte body'),
        (bytes([0x88, 4, 0x03, 0xE8, 0xFF, 0xFE]), 'not valid UTF-8'),
    ],
)
def test_malformed_frames_raise_frame_error(data: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_frame(data)
    with pytest.raises(FrameError, match=message):
        FrameSplitter().feed(data)


def test_splitter_keeps_the_good_frames_before_an_error_and_then_stays_failed() -> None:
    good = wire(Opcode.TEXT, b'fine', mask=True)
    splitter = FrameSplitter()
    with pytest.raises(FrameError) as info:
        splitter.feed(good + bytes([0x09, 0]))
    assert info.value.frames == (decode_all(good),)
    with pytest.raises(FrameError, match='already failed'):
        splitter.feed(good)


@pytest.mark.parametrize(
    ('header', 'length', 'minimal'),
    [
        (struct.pack('!BBH', 0x82, 126, MAX_CONTROL_PAYLOAD), MAX_CONTROL_PAYLOAD, False),  # 125 fits the 7-bit form
        (struct.pack('!BBH', 0x82, 126, MAX_CONTROL_PAYLOAD + 1), MAX_CONTROL_PAYLOAD + 1, True),
        (struct.pack('!BBQ', 0x82, 127, 0xFFFF), 0xFFFF, False),  # 65,535 fits the 16-bit form
        (struct.pack('!BBQ', 0x82, 127, 0x10000), 0x10000, True),
    ],
)
def test_the_minimal_length_check_at_each_boundary(header: bytes, length: int, minimal: bool) -> None:
    frame = decode_all(header + bytes(length))
    assert (frame.payload_length, frame.length_is_minimal) == (length, minimal)
    assert ('(longer form than needed)' in describe(frame)) is not minimal
