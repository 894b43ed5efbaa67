"""Open311 GeoReport v2 endpoints (docs/open311.md): thin views over interop.selectors and
interop.services, answering in the format the path ends with.

Reading is public, as the spec says; POSTing a request needs a client's api_key, so these
views are CSRF-exempt (no session or cookie is ever used). Every refusal is a GeoReport
error document with its HTTP status: 400 bad parameters, 403 api_key, 404 not found."""

import functools
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from yiwang.interop import selectors, services
from yiwang.interop.open311 import params, render
from yiwang.interop.open311 import representation as rep
from yiwang.interop.services import Open311Error

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _jurisdiction(request: HttpRequest) -> None:
    """One jurisdiction is served: its id may be left out, and any other is not found."""
    given = (request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id", "")).strip()
    if given and given != rep.jurisdiction_id():
        raise Open311Error(
            404,
            [
                _("jurisdiction_id“%(given)s”不存在,本接口服务的是 %(ours)s")
                % {"given": given[:100], "ours": rep.jurisdiction_id()}
            ],
        )


def open311(*methods: str) -> Callable:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, fmt: str = "xml", **kwargs) -> HttpResponse:
            if request.method not in allowed:
                response = render.error(
                    fmt, 405, [_("此资源只接受 %(m)s 请求") % {"m": "、".join(methods)}]
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                _jurisdiction(request)
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return render.error(fmt, exc.status, exc.descriptions, exc.retry_after)
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
                return render.error(fmt, 400, [_("请求内容过大或字段过多")])

        return wrapper

    return decorate


@open311("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    return render.respond(fmt, "discovery", rep.discovery(request))


@open311("GET")
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    data = [rep.service(category) for category in selectors.open311_services()]
    return render.respond(fmt, "services", data)


@open311("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = selectors.open311_service(code)
    if category is None:
        raise Open311Error(404, [_("service_code“%(code)s”不存在或未开放") % {"code": code[:50]}])
    return render.respond(fmt, "service_definition", rep.service_definition(category))


@open311("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    found = selectors.find_requests(params.request_query(request.GET))
    return render.respond(fmt, "service_requests", [rep.service_request(t) for t in found])


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type not in FORM_TYPES:
        raise Open311Error(
            400, [_("请以 application/x-www-form-urlencoded 表单提交(GeoReport v2)")]
        )
    client = services.authenticate(request.POST.get("api_key") or request.GET.get("api_key", ""))
    submitted = services.submit_request(client, params.submission(request.POST))
    return render.respond(fmt, "service_requests", [rep.created(submitted)])


@open311("GET")
def service_request(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    ticket = selectors.find_request(request_id)
    if ticket is None:
        raise Open311Error(404, [_("service_request_id“%(id)s”不存在") % {"id": request_id[:50]}])
    return render.respond(fmt, "service_requests", [rep.service_request(ticket)])


@open311("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    submitted = selectors.request_for_token(token)
    if submitted is None:
        raise Open311Error(404, [_("token“%(t)s”不存在") % {"t": token[:50]}])
    return render.respond(fmt, "service_requests", [rep.token(submitted)])


@csrf_exempt
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Anything else under the base URL, answered as a GeoReport error rather than a page."""
    fmt = "json" if path.endswith(".json") else "xml"
    return render.error(
        fmt, 404, [_("没有这个 Open311 资源:%(p)s(格式须为 .xml 或 .json)") % {"p": path[:100]}]
    )
