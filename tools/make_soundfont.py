"""Build ``resources/soundfonts/deeptrance-gm.sf2``: the General MIDI presets the band parts
use, cut out of FluidR3_GM (Debian package ``fluid-soundfont-gm``, MIT licence).

Development time only, like ``convert_musicnn.py``. Usage::

    apt-get download fluid-soundfont-gm && dpkg -x fluid-soundfont-gm_*.deb /tmp/fluid
    python tools/make_soundfont.py /tmp/fluid/usr/share/sounds/sf2/FluidR3_GM.sf2

The subset keeps every generator, modulator, zone and sample of the chosen presets unchanged
(only indices are renumbered), so the presets sound exactly as in the full SoundFont. It writes
the file, its SHA256SUMS line and LICENSE.txt next to it.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deeptrance_gui.core.band.instruments import soundfont_presets  # noqa: E402

OUT_DIR = ROOT / "resources" / "soundfonts"
OUT_NAME = "deeptrance-gm.sf2"
MAX_BYTES = 50 * 1024 * 1024

PHDR, BAG, MOD, GEN, INST, SHDR = 38, 4, 10, 4, 22, 46
GEN_INSTRUMENT, GEN_SAMPLE = 41, 53


def _chunks(data: bytes, offset: int, end: int):
    while offset < end:
        cid = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        yield cid, offset + 8, size
        offset += 8 + size + (size & 1)


def _chunk(cid: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return cid + struct.pack("<I", len(payload)) + payload + pad


def _records(blob: bytes, size: int) -> list[bytes]:
    return [blob[i : i + size] for i in range(0, len(blob), size)]


def read(path: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise SystemExit(f"{path}: not a SoundFont 2 file")
    parts: dict[str, bytes] = {}
    for _cid, offset, size in _chunks(data, 12, len(data)):
        kind = data[offset : offset + 4].decode()
        for sub, o2, s2 in _chunks(data, offset + 4, offset + size):
            parts[f"{kind}/{sub.decode()}"] = data[o2 : o2 + s2]
    return parts


def subset(parts: dict[str, bytes], wanted: set[tuple[int, int]]) -> bytes:
    phdr = _records(parts["pdta/phdr"], PHDR)
    pbag = _records(parts["pdta/pbag"], BAG)
    pmod = _records(parts["pdta/pmod"], MOD)
    pgen = _records(parts["pdta/pgen"], GEN)
    inst = _records(parts["pdta/inst"], INST)
    ibag = _records(parts["pdta/ibag"], BAG)
    imod = _records(parts["pdta/imod"], MOD)
    igen = _records(parts["pdta/igen"], GEN)
    shdr = _records(parts["pdta/shdr"], SHDR)
    smpl = parts["sdta/smpl"]

    def bag_range(headers: list[bytes], index: int, fmt_offset: int) -> tuple[int, int]:
        a = struct.unpack_from("<H", headers[index], fmt_offset)[0]
        b = struct.unpack_from("<H", headers[index + 1], fmt_offset)[0]
        return a, b

    presets = []
    for i in range(len(phdr) - 1):
        _name, preset, bank = struct.unpack_from("<20sHH", phdr[i])
        if (bank, preset) in wanted:
            presets.append(i)
    found = {struct.unpack_from("<20sHH", phdr[i])[2:0:-1] for i in presets}
    missing = wanted - {(b, p) for b, p in found}
    if missing:
        raise SystemExit(f"presets not in the source SoundFont: {sorted(missing)}")
    presets.sort(key=lambda i: struct.unpack_from("<20sHH", phdr[i])[2:0:-1])

    inst_map: dict[int, int] = {}
    sample_map: dict[int, int] = {}
    out = {k: bytearray() for k in ("phdr", "pbag", "pmod", "pgen", "inst", "ibag", "imod", "igen", "shdr")}

    def copy_zones(bags: list[bytes], mods: list[bytes], gens: list[bytes], a: int, b: int, key: str, remap) -> None:
        for bag in range(a, b):
            g0, m0 = struct.unpack("<HH", bags[bag])
            g1, m1 = struct.unpack("<HH", bags[bag + 1])
            out[key + "bag"] += struct.pack("<HH", len(out[key + "gen"]) // GEN, len(out[key + "mod"]) // MOD)
            for m in range(m0, m1):
                out[key + "mod"] += mods[m]
            for g in range(g0, g1):
                oper, amount = struct.unpack("<HH", gens[g])
                out[key + "gen"] += struct.pack("<HH", oper, remap(oper, amount))

    def sample_index(old: int) -> int:
        if old not in sample_map:
            sample_map[old] = len(sample_map)
            link = struct.unpack_from("<H", shdr[old], 42)[0]
            kind = struct.unpack_from("<H", shdr[old], 44)[0]
            if kind & 0x6 and link < len(shdr) - 1:  # stereo pair: keep the partner too
                sample_index(link)
        return sample_map[old]

    def instrument_index(old: int) -> int:
        if old not in inst_map:
            inst_map[old] = -1  # placeholder while its zones are copied later
        return old

    # Presets first (collect instruments), then instruments in first-use order.
    preset_zones = []
    for i in presets:
        preset_zones.append((i, *bag_range(phdr, i, 24)))
        a, b = bag_range(phdr, i, 24)
        for bag in range(a, b):
            g0 = struct.unpack("<H", pbag[bag][:2])[0]
            g1 = struct.unpack("<H", pbag[bag + 1][:2])[0]
            for g in range(g0, g1):
                oper, amount = struct.unpack("<HH", pgen[g])
                if oper == GEN_INSTRUMENT and amount not in inst_map:
                    inst_map[amount] = len(inst_map)
    for i, a, b in preset_zones:
        out["phdr"] += phdr[i][:24] + struct.pack("<H", len(out["pbag"]) // BAG) + phdr[i][26:]
        copy_zones(pbag, pmod, pgen, a, b, "p", lambda op, v: inst_map[v] if op == GEN_INSTRUMENT else v)
    out["phdr"] += phdr[-1][:24] + struct.pack("<H", len(out["pbag"]) // BAG) + phdr[-1][26:]
    out["pbag"] += struct.pack("<HH", len(out["pgen"]) // GEN, len(out["pmod"]) // MOD)
    out["pgen"] += b"\0" * GEN
    out["pmod"] += b"\0" * MOD

    for old in sorted(inst_map, key=inst_map.__getitem__):
        a, b = bag_range(inst, old, 20)
        out["inst"] += inst[old][:20] + struct.pack("<H", len(out["ibag"]) // BAG)
        copy_zones(ibag, imod, igen, a, b, "i", lambda op, v: sample_index(v) if op == GEN_SAMPLE else v)
    out["inst"] += inst[-1][:20] + struct.pack("<H", len(out["ibag"]) // BAG)
    out["ibag"] += struct.pack("<HH", len(out["igen"]) // GEN, len(out["imod"]) // MOD)
    out["igen"] += b"\0" * GEN
    out["imod"] += b"\0" * MOD

    new_smpl = bytearray()
    headers = [b""] * len(sample_map)
    for old, new in sample_map.items():
        name, start, end, loop_a, loop_b, rate, pitch, corr, link, kind = struct.unpack("<20sIIIIIBbHH", shdr[old])
        base = len(new_smpl) // 2
        new_smpl += smpl[2 * start : 2 * end] + b"\0" * 92  # 46 zero samples after each (SF2 spec)
        new_link = sample_map.get(link, 0)
        headers[new] = struct.pack(
            "<20sIIIIIBbHH", name, base, base + end - start, base + loop_a - start, base + loop_b - start,
            rate, pitch, corr, new_link, kind,
        )
    for header in headers:
        out["shdr"] += header
    out["shdr"] += shdr[-1]

    info = b"".join(
        _chunk(sub.encode(), parts[f"INFO/{sub}"]) for sub in ("ifil", "isng") if f"INFO/{sub}" in parts
    )
    info += _chunk(b"INAM", b"Deep Trance GM subset of FluidR3_GM\0")
    info += _chunk(b"ICMT", b"Presets used by the band dream, cut from FluidR3_GM (MIT licence) unchanged\0")
    if "INFO/ICOP" in parts:
        info += _chunk(b"ICOP", parts["INFO/ICOP"])
    pdta = b"".join(
        _chunk(k.encode(), bytes(out[k])) for k in ("phdr", "pbag", "pmod", "pgen", "inst", "ibag", "imod", "igen", "shdr")
    )
    body = (
        b"sfbk"
        + _chunk(b"LIST", b"INFO" + info)
        + _chunk(b"LIST", b"sdta" + _chunk(b"smpl", bytes(new_smpl)))
        + _chunk(b"LIST", b"pdta" + pdta)
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


LICENSE = """deeptrance-gm.sf2 is a subset of FluidR3_GM.sf2 (presets unchanged), made by
tools/make_soundfont.py from the Debian package fluid-soundfont-gm.

FluidR3_GM: Copyright (c) 2000-2002, 2008, 2012 Frank Wen <getfrank@gmail.com>
Licence: MIT

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="FluidR3_GM.sf2")
    args = parser.parse_args()
    data = subset(read(args.source), set(soundfont_presets()))
    if len(data) > MAX_BYTES:
        raise SystemExit(f"the subset is {len(data) / 1e6:.1f} MB, over the 50 MB limit for a tracked file")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / OUT_NAME).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (OUT_DIR / "SHA256SUMS").write_text(f"{digest}  {OUT_NAME}\n")
    (OUT_DIR / "LICENSE.txt").write_text(LICENSE)
    print(f"wrote {OUT_DIR / OUT_NAME}: {len(data) / 1e6:.1f} MB, {len(soundfont_presets())} presets, sha256 {digest}")


if __name__ == "__main__":
    main()
