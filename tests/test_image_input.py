"""Image files for a saved image model (:mod:`nooverfit.image_input`)."""

from __future__ import annotations

from nooverfit.image_input import IMAGE_SUFFIXES


def test_image_suffixes_are_torchvisions_image_extensions():
    """Written out to keep torchvision out of ``nooverfit predict``'s imports; the folder
    loader (torchvision's ``ImageFolder``) and predict must take the same files."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    assert IMAGE_SUFFIXES == IMG_EXTENSIONS
