"""Portal account pages: thin views over identity.services (same rules as the API)."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.crypto.fields import mask_id_number, mask_phone
from yiwang.identity import services
from yiwang.identity.forms import LoginForm, RealNameForm, RegisterForm, add_service_errors
from yiwang.identity.models import OneTimeCode, User

BACKEND = "yiwang.identity.backends.PhoneOrUsernameBackend"


def safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def register(request: HttpRequest) -> HttpResponse:
    """One form; "获取验证码" is a second submit button, so it works without JavaScript."""
    if request.user.is_authenticated:
        return redirect("portal:profile")
    phone_error = ""
    code_sent = False
    if request.method != "POST":
        form = RegisterForm()
    elif request.POST.get("action") == "send_code":
        # Keep what was typed (never the password) and only judge the phone number.
        form = RegisterForm(initial={k: v for k, v in request.POST.items() if k != "password"})
        try:
            services.send_phone_code(
                request.POST.get("phone", ""),
                OneTimeCode.Purpose.REGISTER,
                ip=services.client_ip(request),
            )
        except ValidationError as exc:
            phone_error = " ".join(exc.message_dict.get("phone", exc.messages))
        else:
            code_sent = True
            messages.success(
                request,
                _("验证码已发送至%(phone)s,5分钟内有效,请填写到“短信验证码”一栏")
                % {"phone": mask_phone(request.POST.get("phone", "").strip())},
            )
    else:
        form = RegisterForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            kind = data.pop("kind")
            ip = services.client_ip(request)
            try:
                if kind == User.Kind.COMPANY:
                    user = services.register_company_agent(ip=ip, **data)
                else:
                    data.pop("company_name")
                    data.pop("credit_code")
                    user = services.register_citizen(ip=ip, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                login(request, user, backend=BACKEND)
                messages.success(request, _("注册成功。完成实名认证后即可在线办事。"))
                return redirect("portal:realname")
    return render(
        request,
        "identity/register.html",
        {"form": form, "phone_error": phone_error, "code_sent": code_sent},
    )


def authenticated_user(request: HttpRequest, form: LoginForm) -> User | None:
    """The user a posted login form proves, or None with the reason added to the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return services.authenticate_user(
            request, form.cleaned_data["login"], form.cleaned_data["password"]
        )
    except services.LoginFailed as exc:
        form.add_error(None, exc.messages)
        return None


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if user := authenticated_user(request, form):
        login(request, user, backend=BACKEND)
        return redirect(safe_next(request))
    return render(
        request, "identity/login.html", {"form": form, "next": safe_next(request, default="")}
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已退出登录"))
    return redirect("/")


@login_required
def realname(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_real_name_verified:
        messages.info(request, _("您已完成实名认证"))
        return redirect("portal:profile")
    form = RealNameForm(request.POST or None, initial={"real_name": user.real_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.verify_real_name(user, ip=services.client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("实名认证成功"))
            return redirect(safe_next(request, default="/accounts/profile/"))
    return render(request, "identity/realname.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "identity/profile.html",
        {
            "profile_user": user,
            "masked_phone": mask_phone(user.phone),
            "masked_id_number": mask_id_number(user.id_number),
        },
    )
