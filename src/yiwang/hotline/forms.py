"""Forms of the hotline console pages.

They only shape the typing (choices, numbers, files); every rule of a ticket is the
service's, whose TicketError names the same field names as these forms, so its message
lands next to the field it is about.
"""

import decimal
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from yiwang.common.codes import SatisfactionLevel
from yiwang.common.parsing import parse_id
from yiwang.hotline import services
from yiwang.hotline.models import Category, KnowledgeArticle, LimitUnit, Ticket
from yiwang.identity.models import Department

YES_NO = [("yes", _("是")), ("no", _("否"))]
# Labels of the note field per action: what the note is for in that step.
NOTE_LABELS = {
    "answer": _("答复内容"),
    "reject": _("不予立案理由"),
    "object": _("退单理由"),
    "return": _("发回重办理由"),
    "reopen": _("重新办理理由"),
}
NOTE_HINTS = {
    "answer": _("将通过短信告知反映人"),
    "object": _("写明为何不属于本部门职责,以及建议的承办部门"),
    "return": _("写明核查发现的问题,部门须重新处置"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one <input type=file multiple>; the service checks their content."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


def leaf_categories() -> list[Category]:
    """Active leaves, the only categories a ticket may carry, in tree order."""
    return list(
        Category.objects.filter(is_active=True, children__isnull=True)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


def grouped_category_choices(categories: list[Category]) -> list:
    """Choices grouped under their parent (<optgroup>), so a long list stays readable."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for category in categories:
        parent = category.parent.name if category.parent_id else ""
        groups.setdefault(parent, []).append((category.pk, category.name))
    return [("", _("请选择")), *((name or _("其他"), items) for name, items in groups.items())]


class CategoryChoiceField(forms.TypedChoiceField):
    """A category by id; unknown ids are refused here, the service refuses non-leaves."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("empty_value", None)
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": _("未找到该分类,请重新搜索并从结果中选择")},
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Category | None:
        pk = super().clean(value)
        if pk is None:
            return None
        category = Category.objects.filter(pk=pk).first()
        if category is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid")
        return category

    def valid_value(self, value: Any) -> bool:
        """Any existing category id passes; the service explains why a non-leaf cannot be used."""
        return parse_id(value) is not None


class ServiceCheckedCharField(forms.CharField):
    """Marked required on the page, but a blank is left to `services.report`, which names
    it together with every other problem of the report (一次性告知), not one at a time."""

    def validate(self, value: Any) -> None:
        return None


class ServiceCheckedChoiceField(forms.ChoiceField):
    """A choice the service validates with the report (see ServiceCheckedCharField)."""

    def validate(self, value: Any) -> None:
        return None


def dispatch_departments() -> list[Department]:
    centre = services.hotline_centre()
    departments = Department.objects.filter(is_active=True).order_by("sort_order", "id")
    return list(departments.exclude(pk=centre.pk) if centre else departments)


# Agent console ----------------------------------------------------------------------------


class IntakeForm(forms.Form):
    """A call taken by an operator: who calls, what about, where; answered or registered."""

    reporter_phone = forms.CharField(
        label=_("来电号码"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "class": "w-11"}),
        help_text=_("输入后显示该号码的历史工单"),
    )
    reporter_name = forms.CharField(
        label=_("来电人姓名或称呼"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "w-11"}),
    )
    is_anonymous = forms.BooleanField(label=_("匿名反映(不记录姓名和电话,不回访)"), required=False)
    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=[
            (Ticket.Channel.PHONE, Ticket.Channel.PHONE.label),
            (Ticket.Channel.COMPANY_LINE, Ticket.Channel.COMPANY_LINE.label),
            (Ticket.Channel.INSPECTOR, Ticket.Channel.INSPECTOR.label),
        ],
        initial=Ticket.Channel.PHONE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("来源渠道应为电话、企业专线或监督员上报")},
    )
    kind = ServiceCheckedChoiceField(
        label=_("诉求类型"), choices=Ticket.Kind.choices, widget=forms.RadioSelect
    )
    category_query = forms.CharField(
        label=_("查找分类"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text=_("输入来电人的说法,例如“路灯”“噪音”“欠薪”"),
    )
    category = CategoryChoiceField(label=_("分类"), help_text=_("立案前必须选择末级分类"))
    description = ServiceCheckedCharField(
        label=_("诉求内容"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": services.MAX_DESCRIPTION}),
    )
    address = forms.CharField(label=_("地址"), required=False)
    latitude = forms.CharField(
        label=_("纬度"), required=False, widget=forms.TextInput(attrs={"class": "w-11"})
    )
    longitude = forms.CharField(
        label=_("经度"), required=False, widget=forms.TextInput(attrs={"class": "w-11"})
    )
    photos = MultipleFileField(
        label=_("现场照片(可多选)"),
        help_text=format_lazy(
            _("JPG 或 PNG,最多 {n} 张;查找历史、分类或答复后需重新选择"), n=services.MAX_PHOTOS
        ),
    )
    attachments = MultipleFileField(
        label=_("附件(可多选)"),
        help_text=_("JPG、PNG 或 PDF"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    article = forms.CharField(label=_("知识库答复口径"), required=False, max_length=20)
    answer = forms.CharField(
        label=_("答复内容"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("咨询类可当场答复办结:选择知识库口径或直接填写,将短信告知来电人"),
    )
    call_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.fields["category"].choices = grouped_category_choices(categories)
        # htmx: look up as the operator types (the page works the same without it).
        lookups = {
            "reporter_phone": ("console:hotline_caller_history", "#caller-history", ""),
            "category_query": (
                "console:hotline_category_search",
                "#category-results",
                "#category-results",
            ),
            "description": (
                "console:hotline_article_search",
                "#answers",
                "#answers",
            ),
        }
        for name, (url, target, include) in lookups.items():
            attrs = {
                "hx-get": reverse(url),
                "hx-trigger": "input changed delay:400ms, search",
                "hx-target": target,
                "hx-sync": "this:replace",
            }
            if include:
                attrs["hx-include"] = include
            self.fields[name].widget.attrs.update(attrs)

    def clean_article(self) -> KnowledgeArticle | None:
        raw = self.cleaned_data.get("article", "")
        if not raw:
            return None
        pk = parse_id(raw)
        article = KnowledgeArticle.objects.filter(pk=pk, is_active=True).first() if pk else None
        if article is None:
            raise forms.ValidationError(_("该知识库条目不存在或已停用,请重新查找"))
        return article

    def chosen_category_id(self) -> int | None:
        return parse_id(self["category"].value())


# Ticket page -------------------------------------------------------------------------------


class ActionForm(forms.Form):
    """One step of TRANSITIONS; the fields are those the step takes in `services.act`."""

    def __init__(self, *args: Any, action: str, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"a-{action}")
        super().__init__(*args, **kwargs)
        self.action = action
        self.label = _(services.ACTION_LABELS[action])
        transition = services.TRANSITIONS[action]
        self.danger = transition.needs_note and action != "answer"
        if action in ("register", "verify"):
            self.fields["category"] = CategoryChoiceField(
                label=_("分类"),
                initial=ticket.category_id,
                help_text=_("立案须为启用的末级分类;派单目录据此确定承办部门和时限"),
            )
            self.fields["category"].choices = grouped_category_choices(leaf_categories())
        if action == "merge":
            self.fields["into"] = forms.CharField(
                label=_("合并到工单编号"),
                max_length=20,
                help_text=_("保留的那张工单;本工单将关闭并指向它"),
                error_messages={"required": _("请填写要合并到的工单编号")},
                widget=forms.TextInput(attrs={"class": "w-11", "inputmode": "numeric"}),
            )
        if action == "dispatch":
            departments = dispatch_departments()
            catalogue = ticket.category.department_id if ticket.category_id else None
            self.fields["department"] = forms.ModelChoiceField(
                label=_("主办部门"),
                queryset=Department.objects.filter(pk__in=[d.pk for d in departments]),
                required=False,
                initial=catalogue,
                help_text=_("默认为派单目录中该分类的承办部门"),
                error_messages={"invalid_choice": _("请从列表中选择主办部门")},
            )
            self.fields["supporting"] = forms.ModelMultipleChoiceField(
                label=_("协办部门(可多选)"),
                queryset=Department.objects.filter(pk__in=[d.pk for d in departments]),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                error_messages={"invalid_choice": _("请从列表中选择协办部门")},
            )
            self.fields["suggested"] = forms.ModelChoiceField(
                queryset=Department.objects.filter(pk__in=[d.pk for d in departments]),
                required=False,
                widget=forms.HiddenInput,
                error_messages={"invalid_choice": _("建议的部门已不可派单,请从列表中选择")},
            )
        if action == "handle":
            self.fields["result"] = forms.CharField(
                label=_("处置结果"),
                widget=forms.Textarea(attrs={"rows": 4}),
                required=False,
                help_text=_("写明做了什么、结果如何;将短信告知反映人"),
            )
            self.fields["photos"] = MultipleFileField(
                label=_("处置结果照片(可多选)"), help_text=_("JPG 或 PNG")
            )
        else:
            self.fields["note"] = forms.CharField(
                label=NOTE_LABELS.get(action, _("说明")),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=NOTE_HINTS.get(action, ""),
            )

    @property
    def visible(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "suggested"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"note": data.get("note", "")}
        if "category" in data and data["category"] is not None:
            kwargs["category"] = data["category"]
        if self.action == "dispatch":
            kwargs["department"] = data.get("suggested") or data.get("department")
            kwargs["supporting"] = list(data.get("supporting") or [])
        if self.action == "handle":
            kwargs["result"] = data.get("result", "")
            kwargs["photos"] = data.get("photos") or []
        return kwargs


class FollowUpForm(forms.Form):
    """电话回访: an operator reads the reporter's answers into the record."""

    reached = forms.ChoiceField(
        label=_("是否联系上反映人"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是否联系上反映人")},
    )
    solved = forms.ChoiceField(
        label=_("问题是否已解决"), choices=YES_NO, widget=forms.RadioSelect, required=False
    )
    level = forms.TypedChoiceField(
        label=_("满意度"),
        choices=SatisfactionLevel.choices,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
        required=False,
    )
    comment = forms.CharField(
        label=_("反映人意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "follow")
        super().__init__(*args, **kwargs)


class PostponeForm(forms.Form):
    days = forms.CharField(
        label=_("延期工作日"),
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "w-4"}),
        help_text=format_lazy(_("0.5 至 {n} 个工作日,可含半天"), n=services.MAX_POSTPONE_DAYS),
        error_messages={"required": _("请填写延期天数")},
    )
    reason = forms.CharField(
        label=_("延期理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请写明延期理由")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "postpone")
        super().__init__(*args, **kwargs)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("同意延期")), ("refuse", _("不同意"))],
        error_messages={"required": _("请选择同意或不同意")},
    )
    note = forms.CharField(
        label=_("审批意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不同意时必须写明理由"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decide")
        super().__init__(*args, **kwargs)


class LinkForm(forms.Form):
    other = forms.CharField(
        label=_("关联工单编号"),
        max_length=20,
        widget=forms.TextInput(attrs={"class": "w-11", "inputmode": "numeric"}),
        help_text=_("同一事项的另一张工单,不合并、各自办理"),
        error_messages={"required": _("请填写要关联的工单编号")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)


class CommentForm(forms.Form):
    note = forms.CharField(
        label=_("备注或协办意见"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写备注内容")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)


# Master data --------------------------------------------------------------------------------


def _plain(amount: decimal.Decimal) -> str:
    """3.5 → "3.5", 10.0 → "10" (never "1E+1")."""
    return format(amount.normalize(), "f")


class CategoryForm(forms.Form):
    """A node of the tree and its line in the dispatch catalogue; `catalogue.save_category`
    checks codes, limits and the tree."""

    code = forms.CharField(
        label=_("分类编码"),
        max_length=20,
        widget=forms.TextInput(attrs={"class": "w-6", "inputmode": "numeric"}),
        help_text=_("2 至 20 位数字,下级以上级编码开头,例如 0101"),
    )
    name = forms.CharField(label=_("分类名称"), max_length=100)
    parent = forms.ModelChoiceField(
        label=_("上级分类"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        empty_label=_("(无,作为一级分类)"),
    )
    department = forms.ModelChoiceField(
        label=_("承办部门(派单目录)"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "id"),
        required=False,
        empty_label=_("(未指定)"),
        help_text=_("末级分类的工单默认派给该部门"),
    )
    sign_limit = forms.CharField(
        label=_("签收时限"), widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "w-4"})
    )
    sign_unit = forms.ChoiceField(label=_("签收时限单位"), choices=LimitUnit.choices)
    handle_limit = forms.CharField(
        label=_("办结时限"), widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "w-4"})
    )
    handle_unit = forms.ChoiceField(label=_("办结时限单位"), choices=LimitUnit.choices)
    keywords = forms.CharField(
        label=_("检索词"), required=False, help_text=_("群众的说法,以空格分隔,例如“黑灯 路灯坏了”")
    )
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_public = forms.BooleanField(label=_("对外公开(门户和 Open311 可选)"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    sort_order = forms.IntegerField(
        label=_("排序"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"class": "w-4"}),
    )

    def __init__(self, *args: Any, instance: Category | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": instance.code,
                "name": instance.name,
                "parent": instance.parent_id,
                "department": instance.department_id,
                "sign_limit": _plain(instance.sign_limit),
                "sign_unit": instance.sign_unit,
                "handle_limit": _plain(instance.handle_limit),
                "handle_unit": instance.handle_unit,
                "keywords": instance.keywords,
                "description": instance.description,
                "is_public": instance.is_public,
                "is_active": instance.is_active,
                "sort_order": instance.sort_order,
            }
        kwargs.setdefault(
            "initial",
            {
                "sign_limit": "3.5",
                "sign_unit": LimitUnit.HOURS,
                "handle_limit": "5",
                "handle_unit": LimitUnit.DAYS,
                "is_public": True,
                "is_active": True,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["parent"].label_from_instance = lambda c: f"{c.code} {c.path_name}"
        if instance is not None:
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(pk=instance.pk)


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120)
    question = forms.CharField(
        label=_("常见问法"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("来电人通常怎么问,帮助检索"),
    )
    answer = forms.CharField(
        label=_("答复口径"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("话务员当场读给来电人的答复,也作为短信发送"),
    )
    category = forms.ModelChoiceField(
        label=_("分类"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        empty_label=_("(不限)"),
    )
    department = forms.ModelChoiceField(
        label=_("提供部门"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "id"),
        required=False,
        empty_label=_("(未指定)"),
    )
    keywords = forms.CharField(label=_("检索词"), required=False, help_text=_("以空格分隔"))
    is_active = forms.BooleanField(label=_("启用(可被检索)"), required=False)

    def __init__(self, *args: Any, instance: KnowledgeArticle | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": instance.title,
                "question": instance.question,
                "answer": instance.answer,
                "category": instance.category_id,
                "department": instance.department_id,
                "keywords": instance.keywords,
                "is_active": instance.is_active,
            }
        kwargs.setdefault("initial", {"is_active": True})
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: c.path_name
