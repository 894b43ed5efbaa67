"""Console pages for process definitions (platform administrators only).

Thin: uploads go through `services.upload_definition`, activation through
`services.set_active`; every problem the validator finds is shown next to the
file field it came from.
"""

from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.cases.models import OPEN_STATUSES
from yiwang.identity.permissions import is_platform_admin, staff_required
from yiwang.workflow import services
from yiwang.workflow.models import ProcessDefinition

FILE_KINDS = ("bpmn", "dmn")


def _require_platform_admin(request: HttpRequest) -> None:
    if not is_platform_admin(request.user):
        raise PermissionDenied(_("只有平台管理员可以管理办理流程"))


def with_case_counts(definitions: Any) -> Any:
    """Versions with how many cases run on each (started there, still open) and in all."""
    return definitions.annotate(
        case_count=Count("cases"),
        open_case_count=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES)),
    )


class UploadForm(forms.Form):
    key = forms.SlugField(
        label=gettext_lazy("流程编号"),
        max_length=100,
        help_text=gettext_lazy(
            "事项引用的编号,只能用小写字母、数字、- 和 _;已有的编号会生成新版本,如 default_approval"
        ),
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    bpmn = forms.FileField(
        label=gettext_lazy("BPMN 流程文件"),
        help_text=gettext_lazy("一个 .bpmn 文件(UTF-8,不超过 1 MB);每个用户任务都要在角色泳道中"),
    )
    dmn = forms.FileField(
        label=gettext_lazy("DMN 决策文件(可选)"),
        required=False,
        help_text=gettext_lazy("流程中的业务规则任务调用的决策表,.dmn 文件"),
    )
    process_id = forms.SlugField(
        label=gettext_lazy("BPMN 流程 id(可选)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("与流程编号不同时填写,如通用秒批流程 instant_approval"),
    )

    def _file(self, field: str, suffix: str) -> Any:
        upload = self.cleaned_data.get(field)
        if upload is None:
            return None
        if not upload.name.lower().endswith(suffix):
            raise ValidationError(_("请选择扩展名为 %(suffix)s 的文件") % {"suffix": suffix})
        if upload.size > services.MAX_FILE_BYTES:
            raise ValidationError(_("文件过大(上限 1 MB),请精简后重新上传"))
        return upload

    def clean_bpmn(self) -> Any:
        return self._file("bpmn", ".bpmn")

    def clean_dmn(self) -> Any:
        return self._file("dmn", ".dmn")

    def files_payload(self) -> dict[str, bytes]:
        return {
            upload.name: upload.read()
            for upload in (self.cleaned_data["bpmn"], self.cleaned_data.get("dmn"))
            if upload is not None
        }

    def attach(self, exc: ValidationError) -> None:
        """The service's errors next to the fields they concern (file problems on the files)."""
        dmn = self.cleaned_data.get("dmn")
        for key, errors in exc.message_dict.items():
            for error in errors:
                if key == "files":
                    on_dmn = dmn is not None and error.startswith(f"{dmn.name}:")
                    self.add_error("dmn" if on_dmn else "bpmn", error)
                elif key in self.fields:
                    self.add_error(key, error)
                else:
                    self.add_error(None, error)


@staff_required
def process_list(request: HttpRequest) -> HttpResponse:
    _require_platform_admin(request)
    definitions = with_case_counts(
        ProcessDefinition.objects.defer("bpmn", "dmn").select_related("uploaded_by")
    ).order_by("key", "-version")
    groups = [
        {"key": key, "versions": list(versions)}
        for key, versions in groupby(definitions, key=lambda d: d.key)
    ]
    return render(request, "workflow/console/process_list.html", {"groups": groups})


@staff_required
def process_upload(request: HttpRequest) -> HttpResponse:
    _require_platform_admin(request)
    initial = {"key": request.GET.get("key", "")}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = services.upload_definition(
                request.user,
                data["key"],
                data["name"],
                form.files_payload(),
                process_id=data["process_id"] or None,
            )
        except ValidationError as exc:
            form.attach(exc)
        else:
            messages.success(
                request,
                _("已上传 %(key)s 第 %(version)s 版,新办件将使用该版本")
                % {"key": definition.key, "version": definition.version},
            )
            return redirect(
                "console:process_detail", key=definition.key, version=definition.version
            )
    return render(
        request,
        "workflow/console/process_upload.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _definition(key: str, version: int) -> ProcessDefinition:
    return get_object_or_404(ProcessDefinition, key=key, version=version)


@staff_required
def process_detail(request: HttpRequest, key: str, version: int) -> HttpResponse:
    _require_platform_admin(request)
    definition = get_object_or_404(
        with_case_counts(ProcessDefinition.objects.select_related("uploaded_by")),
        key=key,
        version=version,
    )
    versions = ProcessDefinition.objects.filter(key=key).only("key", "version", "is_active")
    return render(
        request,
        "workflow/console/process_detail.html",
        {
            "definition": definition,
            "steps": services.user_steps(definition),
            "versions": versions.order_by("-version"),
        },
    )


@staff_required
def process_file(request: HttpRequest, key: str, version: int, kind: str) -> HttpResponse:
    _require_platform_admin(request)
    definition = _definition(key, version)
    text = getattr(definition, kind) if kind in FILE_KINDS else ""
    if not text:
        raise Http404
    response = HttpResponse(text, content_type="application/xml; charset=utf-8")
    filename = f"{definition.key}-v{definition.version}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@staff_required
def process_activation(request: HttpRequest, key: str, version: int) -> HttpResponse:
    _require_platform_admin(request)
    definition = _definition(key, version)
    active = request.POST.get("active") == "1"
    try:
        services.set_active(request.user, definition, active)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("已启用该版本") if active else _("已停用该版本"))
    return redirect("console:process_detail", key=key, version=version)
