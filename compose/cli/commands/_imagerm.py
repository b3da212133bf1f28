"""Removing images that containers may still use: `image rm` and `down --rmi`.

An image's layers are the lower dirs of its containers' overlays, so an image a container
(of any project, running or not) still uses is never deleted: docker refuses it the same way
("conflict: unable to remove ... container ... is using its referenced image")."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compose.images import ImageStore


def user_of(store: ImageStore, ref: str) -> str | None:
    """A container that uses the image ``ref`` names, or None."""
    from compose.state import images_in_use

    digest = store.resolve(ref).digest
    users = images_in_use().get(digest)
    return users[0] if users else None


def remove_unused(store: ImageStore, ref: str) -> tuple[list[str], str | None]:
    """(items deleted, the container that kept it); nothing happens while one uses it."""
    user = user_of(store, ref)
    if user is not None:
        return [], user
    return store.remove(ref), None
