from tests.images.fixtures import auth_registry, registry, test_images  # noqa: F401
