from django.contrib.auth.backends import ModelBackend


class PhoneOrUsernameBackend(ModelBackend):
    """Placeholder until identity services land: username login only."""
