"""Login by phone number (found by blind index) or username; locked accounts are refused."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from yiwang.identity import services
from yiwang.identity.models import User


class PhoneOrUsernameBackend(ModelBackend):
    """Counts wrong passwords and resets the count on success, whatever page logs in."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None
        user = services.find_user_by_login(login)
        if user is None:
            # Same cost as a real check, so timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.is_locked or not self.user_can_authenticate(user):
            return None
        ip = services.client_ip(request)
        if not user.check_password(password):
            services.record_login_failure(user, ip=ip)
            return None
        services.record_login_success(user, ip=ip)
        return user

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_locked", False)
