"""Settings for the test suite: production's, with a cheap password hasher.

Every test user pays for its password once or twice; PBKDF2's deliberate cost would make that a
large part of the suite's time, and proves nothing about jobsite.
"""

from jobsite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
