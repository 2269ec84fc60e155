"""QR codes read from pixels, as a learner's phone camera reads the join screen: zxing-cpp, a maintained decoder.

The tests take the pixels from Chromium (a screenshot of what the page shows), so a code that is drawn too small,
cut off, low in contrast or without its quiet zone fails to read here as it would on a phone.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr_codes(png: bytes) -> list[str]:
    """The text of every QR code in a PNG image, in the decoder's order (empty when none can be read)."""
    with Image.open(io.BytesIO(png)) as image:
        found = zxingcpp.read_barcodes(image.convert('L'), formats=QR_ONLY)
    return [code.text for code in found]
