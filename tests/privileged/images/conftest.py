from tests.images.fixtures import (  # noqa: F401
    auth_registry,
    registry,
    test_images,
    token_registry,
)
