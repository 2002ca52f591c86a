"""``nooverfit synthesize``: mix foreground clips with background noise at controlled SNR."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nooverfit._words import counted
from nooverfit.cli._app import app, console, guard


@app.command("synthesize")
@guard
def synthesize_command(
    foreground: Annotated[
        Path, typer.Option(help="Folder of clean clips: DIR/<label>/<clip>.wav (or flat).")
    ],
    background: Annotated[Path, typer.Option(help="Folder of background-noise WAV files.")],
    out: Annotated[Path, typer.Option(help="Output folder (clips and manifest.csv).")],
    snr: Annotated[str, typer.Option(help="SNR in dB over the keyword: LOW:HIGH or N.")] = "0:20",
    per_clip: Annotated[int, typer.Option(help="Mixes per foreground clip.")] = 5,
    rate: Annotated[
        int | None, typer.Option(help="Sample rate in Hz (default: the first clip's).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of noise, offset and SNR draws.")] = 0,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace an earlier synthesis in --out (its clips)."),
    ] = False,
) -> None:
    """Write mixed clips and a manifest.csv (source, noise, offset, SNR, gain, seed).

    An --out holding an earlier synthesis is refused unless --overwrite, which replaces the
    clips its manifest lists (kept until the new synthesis is written: a run that fails
    leaves them); --out inside --foreground or --background is refused.
    """
    from nooverfit.data.synthesize import parse_snr, synthesize_folder

    result = synthesize_folder(
        foreground,
        background,
        out=out,
        snr_db=parse_snr(snr),
        per_clip=per_clip,
        seed=seed,
        rate=rate,
        overwrite=overwrite,
    )
    noises = len({r.noise for r in result.rows})
    console.print(
        f"wrote {counted(len(result.rows), 'clip')} from "
        f"{counted(len(result.rows) // per_clip, 'source')} and {counted(noises, 'noise')} to "
        f"{out} (manifest.csv), SNR {snr} dB"
    )
