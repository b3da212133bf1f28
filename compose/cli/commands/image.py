"""``pycompose image pull|ls|rm|prune|inspect|load``: manage the local image store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compose.images import Image, ImageStore


def _store() -> ImageStore:
    from compose.images import ImageStore

    return ImageStore()


def short_id(image: Image) -> str:
    return image.config_digest.split(":", 1)[-1][:12]


def human_size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000  # type: ignore[assignment]
    return str(size)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def image_row(store: ImageStore, ref: str, image: Image) -> dict[str, Any]:
    from compose.images.reference import parse

    parsed = parse(ref)
    return {
        "Repository": parsed.familiar_name,
        "Tag": parsed.tag or "<none>",
        "ID": short_id(image),
        "Digest": image.digest,
        "Platform": image.platform,
        "Size": store.size_of(image),
    }


@click.group("image")
def command() -> None:
    """Manage images in the local store."""


@command.command("pull")
@click.argument("refs", nargs=-1, required=True)
@click.option("--platform", help="os/arch[/variant] to pull (default: this host's).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def pull_cmd(refs: tuple[str, ...], platform: str | None, quiet: bool) -> None:
    """Pull images from their registries."""
    from compose.images.progress import for_terminal
    from compose.images.registrypull import pull

    store, progress = _store(), for_terminal(quiet)
    try:
        for ref in refs:
            pull(ref, store=store, platform=platform, progress=progress.for_image(ref))
    finally:
        progress.close()


@command.command("ls")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
def ls_cmd(fmt: str, quiet: bool) -> None:
    """List local images."""
    store = _store()
    rows = [image_row(store, ref, image) for ref, image in store.images()]
    if quiet:
        click.echo("\n".join(dict.fromkeys(r["ID"] for r in rows)) if rows else "", nl=bool(rows))
    elif fmt == "json":
        for row in rows:
            click.echo(json.dumps(row))
    else:
        body = [[r["Repository"], r["Tag"], r["ID"], human_size(r["Size"])] for r in rows]
        click.echo(table(body, ["REPOSITORY", "TAG", "IMAGE ID", "SIZE"]))


@command.command("rm")
@click.argument("refs", nargs=-1, required=True)
def rm_cmd(refs: tuple[str, ...]) -> None:
    """Remove images; layers other images use are kept, images containers use are refused."""
    from compose.cli.commands._imagerm import remove_unused
    from compose.errors import UserError

    store = _store()
    for ref in refs:
        deleted, user = remove_unused(store, ref)
        if user is not None:
            raise UserError(
                f"unable to remove image {ref}: container {user} is using it",
                hint="remove the container first (`pycompose down` in its project)",
            )
        click.echo(f"Untagged: {ref}")
        for item in deleted:
            click.echo(f"Deleted: {item}")


@command.command("prune")
@click.option("-f", "--force", is_flag=True, help="Accepted for docker compatibility.")
def prune_cmd(force: bool) -> None:
    """Remove blobs and layers no image uses, and leftovers of interrupted pulls."""
    removed = _store().prune()
    for item in removed:
        click.echo(f"Deleted: {item}")
    click.echo(f"Total reclaimed: {len(removed)} items")


@command.command("inspect")
@click.argument("refs", nargs=-1, required=True)
def inspect_cmd(refs: tuple[str, ...]) -> None:
    """Show image details as JSON."""
    store = _store()
    docs = []
    for ref in refs:
        image = store.resolve(ref)
        config = store.read_json(image.config_digest)
        docs.append(
            {
                "Id": image.config_digest,
                "RepoTags": [ref],
                "RepoDigests": [image.digest],
                "Architecture": config.get("architecture"),
                "Os": config.get("os"),
                "Config": config.get("config", {}),
                "RootFS": config.get("rootfs", {}),
                "Layers": [str(p) for p in image.layers],
            }
        )
    click.echo(json.dumps(docs, indent=4))


@command.command("load")
@click.argument("archive", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-i",
    "--input",
    "input_",
    type=click.Path(exists=True, path_type=Path),
    help="docker save tar, OCI archive or OCI layout directory.",
)
@click.option("--platform", help="Platform to take from multi-platform archives.")
def load_cmd(archive: Path | None, input_: Path | None, platform: str | None) -> None:
    """Load images from a docker save archive or an OCI layout (or stdin), offline."""
    import shutil
    import sys
    import tempfile

    from compose.errors import UserError
    from compose.images import load_archive

    store = _store()
    source = input_ or archive
    if source is None and sys.stdin.isatty():
        raise UserError("image load: name the archive (pycompose image load -i FILE)")
    with tempfile.NamedTemporaryFile(prefix="stdin-", dir=store.tmp) as tmp:
        if source is None:
            shutil.copyfileobj(sys.stdin.buffer, tmp, 1 << 20)
            tmp.flush()
            source = Path(tmp.name)
        for image in load_archive(source, store=store, platform=platform):
            click.echo(f"Loaded image: {image.ref}")
