"""Safe decoding of what citizens send: real generated files, no mocks."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from bench._pictures import jpeg, meme, photo
from factdb.media.decode import ImageRejected, decode, sniff_format, stripped_jpeg
from factdb.media.video import animation_frames, ffmpeg_available, key_frames


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 60_000) -> bytes:
    """A 300-byte PNG that claims 60,000 x 60,000 grey pixels (3.6 gigapixels)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    # the first rows of zeros; a real bomb goes on for gigabytes, this one need not
    idat = zlib.compress(b"\x00" * (side + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_before_it_is_expanded() -> None:
    data = bomb_png()
    assert len(data) < 2000
    with pytest.raises(ImageRejected) as caught:
        decode(data)
    assert caught.value.reason == "too_many_pixels"
    assert "3600000000" in str(caught.value)  # Pillow's own guard fired first: same reason


def test_the_pixel_cap_is_explicit_and_configurable() -> None:
    data = jpeg(photo(1, (800, 600)))
    assert decode(data).image.size == (800, 600)
    with pytest.raises(ImageRejected) as caught:
        decode(data, max_pixels=100_000)
    assert caught.value.reason == "too_many_pixels"


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",  # a web page named photo.jpg
        b"%PDF-1.7\n1 0 obj <<>> endobj\n",
        b"PK\x03\x04" + b"\x00" * 64,  # a ZIP (an APK, a DOCX)
        b"MZ\x90\x00" + b"\x00" * 64,  # a Windows executable
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
        b"",
    ],
)
def test_a_non_image_disguised_as_one_is_refused_by_its_content(content: bytes) -> None:
    assert sniff_format(content) is None
    with pytest.raises(ImageRejected) as caught:
        decode(content)
    assert caught.value.reason == "not_an_image"


def test_a_picture_header_on_garbage_is_broken_not_a_crash() -> None:
    good = jpeg(photo(2))
    for data in (b"\x89PNG\r\n\x1a\n" + b"\x13" * 500, good[: len(good) // 3]):
        with pytest.raises(ImageRejected) as caught:
            decode(data)
        assert caught.value.reason in ("broken", "not_an_image")


def test_an_oversized_file_is_refused_before_reading_it() -> None:
    with pytest.raises(ImageRejected) as caught:
        decode(b"\xff\xd8\xff" + b"\x00" * 64, max_bytes=32)
    assert caught.value.reason == "too_big"


def _jpeg_with_location(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (54.0, 41.0, 13.37)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (25.0, 16.0, 42.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_location_and_all_metadata_are_stripped_and_orientation_is_applied() -> None:
    original = meme(3, "Is this true?!", "en").resize((640, 480))
    data = _jpeg_with_location(original, orientation=6)  # "rotate 90 degrees to display"
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the test file has a location

    safe = decode(data)
    assert safe.image.size == (480, 640)  # turned upright
    assert not safe.image.info.get("exif")
    stored = stripped_jpeg(safe.image)
    reopened = Image.open(io.BytesIO(stored))
    assert dict(reopened.getexif()) == {}
    assert not reopened.info.get("exif") and not reopened.info.get("icc_profile")
    assert b"Exif" not in stored and b"PhoneMaker" not in stored


def test_transparency_is_laid_on_white() -> None:
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    assert decode(out.getvalue()).image.getpixel((5, 5)) == (255, 255, 255)


def _gif(frames: int) -> bytes:
    images = [photo(10 + i, (160, 120)).convert("P") for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def test_a_gif_gives_its_first_frame_and_frames_spread_over_it() -> None:
    data = _gif(9)
    assert decode(data).frames == 9
    frames = animation_frames(data, count=3)
    assert len(frames) == 3
    assert frames[0].tobytes() != frames[-1].tobytes()


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")
def test_video_key_frames_come_from_ffmpeg_and_garbage_is_refused(tmp_path) -> None:
    import subprocess

    video = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=10",
         "-g", "10", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    frames = key_frames(video.read_bytes())
    assert 2 <= len(frames) <= 4 and frames[0].size == (320, 240)
    with pytest.raises(ImageRejected):
        key_frames(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
