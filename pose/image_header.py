"""What a frame's file says of itself before it is decoded: its size, and whether its structure holds.

OpenCV's decoders trust a file's own fields: a damaged PNG chunk length of 2 GB is allocated (and zeroed)
before the read fails, and a JPEG cut short is decoded anyway, the part the file lacks filled in grey, at
whatever size its header declares. A frame of a frame folder is checked here first, from its bytes: PNG
chunks that run past the end of the file, a JPEG without its end marker, or a size no video frame has are
refused in one line before any decoder sees them. Formats not parsed here (and files of no format) are left to
the decoder, which refuses what it cannot read.
"""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 8192  # pixels a side: an 8K frame; a larger declared size is a damaged header, not a video's frame
# JPEG markers that start a frame and carry its size (SOF0-SOF15 without DHT C4, JPG C8 and DAC CC)
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_header(data: bytes) -> tuple[tuple[int, int] | None, str | None]:
    """``((width, height), problem)`` of an image file's bytes: its declared size (None where the format is
    not parsed here) and what is wrong with its structure (None where nothing is)."""
    if data.startswith(PNG_SIGNATURE):
        size, problem = _png(data)
    elif data.startswith(b"\xff\xd8"):
        size, problem = _jpeg(data)
    elif data.startswith(b"BM") and len(data) >= 26:
        size = (
            int.from_bytes(data[18:22], "little", signed=True),
            abs(int.from_bytes(data[22:26], "little", signed=True)),
        )
        problem = None
    else:
        return None, None
    if problem is None and size is not None and not (0 < size[0] <= MAX_SIDE and 0 < size[1] <= MAX_SIDE):
        problem = f"its header declares {size[0]} x {size[1]} pixels (a video frame has 1 to {MAX_SIDE} a side)"
    return size, problem


def _png(data: bytes) -> tuple[tuple[int, int] | None, str | None]:
    size, pos = None, len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        name = kind.decode("latin-1") if kind.isalpha() else kind.hex()
        if pos + 12 + length > len(data):
            return size, f"cut short or damaged: its {name} chunk runs past the end of the file"
        if kind == b"IHDR" and length >= 8:
            size = (int.from_bytes(data[pos + 8 : pos + 12], "big"), int.from_bytes(data[pos + 12 : pos + 16], "big"))
        if kind == b"IEND":
            return size, None if size is not None else "damaged: no IHDR chunk before its end"
        pos += 12 + length
    return size, "cut short: the file ends before its IEND chunk"


def _jpeg(data: bytes) -> tuple[tuple[int, int] | None, str | None]:
    """The size from the frame header, walking the marker segments up to the scan; then the end marker."""
    size, pos = None, 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return size, "cut short or damaged: a segment runs past the end of the file"
        if marker in _SOF and length >= 7:
            size = (int.from_bytes(data[pos + 7 : pos + 9], "big"), int.from_bytes(data[pos + 5 : pos + 7], "big"))
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the end marker
            break
        pos += 2 + length
    if size is None:
        return None, "damaged: no frame header (SOF) before its image data"
    if data.rfind(b"\xff\xd9", pos) < 0:
        return size, "cut short: the file ends before its end marker (EOI)"
    return size, None
