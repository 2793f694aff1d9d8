"""Tampered archives given to ``wil.load``: each is a ``ValueError`` naming the file (and the member),
refused by the sizes it declares before anything is inflated past them."""

import json
import struct
import zipfile

import pytest

import wil
from wil.export import io as wil_io


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    config = wil.Config(n_samples=60, depth=2, width=4, epochs=3, compare=("zeros", "he_normal"))
    path = tmp_path_factory.mktemp("hostile") / "run.zip"
    wil.compare(config).save(path)
    return path


def rewrite(source, target, replace):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            new.writestr(name, replace.get(name, old.read(name)))


def declare_size(path, member: str, size: int) -> None:
    """Patch the uncompressed size ``member`` declares, in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at:start + name_at + len(name)] == name:
                data[start + offset:start + offset + 4] = struct.pack("<I", size)
            start += 4
    path.write_bytes(bytes(data))


def test_a_member_declaring_gigabytes_is_refused_before_inflating(saved, tmp_path):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(saved.read_bytes())
    declare_size(bomb, "history.csv", 4_000_000_000)
    with pytest.raises(ValueError, match=r"bomb\.zip.*(memory|times|damaged)"):
        wil.load(bomb)


def test_a_member_inflating_past_its_declared_size_is_damaged(saved, tmp_path):
    liar = tmp_path / "liar.zip"
    liar.write_bytes(saved.read_bytes())
    declare_size(liar, "layers.csv", 10)  # zipfile stops at the declared size; the CRC then differs
    with pytest.raises(ValueError, match=r"liar\.zip.*layers\.csv"):
        wil.load(liar)


def test_a_corrupted_member_is_named(saved, tmp_path):
    corrupt = tmp_path / "corrupt.zip"
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("history.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + min(200, info.compress_size - 10)):
        data[i] ^= 0x5A
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"corrupt\.zip.*(history\.csv|damaged)"):
        wil.load(corrupt)


@pytest.mark.parametrize("member", ["manifest.json", "config.json"])
def test_deep_or_huge_json_is_refused(saved, tmp_path, member):
    deep = tmp_path / "deep.zip"
    rewrite(saved, deep, {member: "[" * 50_000 + "]" * 50_000})
    with pytest.raises(ValueError, match=rf"deep\.zip.*{member}"):
        wil.load(deep)
    rewrite(saved, deep, {member: " " * (wil_io.MAX_JSON_BYTES + 1) + "{}"})
    with pytest.raises(ValueError, match=rf"deep\.zip.*{member} declares"):
        wil.load(deep)


def manifest_with(saved, change):
    with zipfile.ZipFile(saved) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    change(manifest)
    return json.dumps(manifest)


@pytest.mark.parametrize("change, message", [
    (lambda m: [c.pop("categories") for c in m["frames"]["history"] if c["dtype"] == "category"], "categories"),
    (lambda m: [c.update(categories=[[1]]) for c in m["frames"]["status"] if c["dtype"] == "category"], "categories"),
    (lambda m: m["frames"]["layers"].append({"dtype": "float64"}), "without a name"),
    (lambda m: m["frames"]["layers"].__setitem__(0, {"name": "x", "dtype": "complex128"}), "dtype"),
    (lambda m: m["frames"]["history"][0].update(ordered="yes"), "order|dtype|columns"),
    (lambda m: m.update(stopped_epoch=-1), "stopped_epoch"),
])
def test_every_manifest_entry_is_checked(saved, tmp_path, change, message):
    bad = tmp_path / "bad.zip"
    rewrite(saved, bad, {"manifest.json": manifest_with(saved, change)})
    with pytest.raises(ValueError, match=rf"bad\.zip.*({message})"):
        wil.load(bad)


def test_an_int64_overflow_in_a_frame_is_refused(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        text = archive.read("history.csv").decode()
    header, first, *rest = text.split("\n")
    columns = header.split(",")
    cells = first.split(",")
    cells[columns.index("epoch")] = "9" * 40
    bad = tmp_path / "overflow.zip"
    rewrite(saved, bad, {"history.csv": "\n".join([header, ",".join(cells), *rest])})
    with pytest.raises(ValueError, match=r"overflow\.zip.*history\.csv"):
        wil.load(bad)


def test_binary_garbage_in_every_member_is_a_value_error(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    for name in names:
        bad = tmp_path / "garbage.zip"
        rewrite(saved, bad, {name: bytes(range(256)) * 4})
        with pytest.raises(ValueError, match=r"garbage\.zip"):
            wil.load(bad)
