"""Pages of the cases domain: the applicant's (portal) and the staff's (console)."""

from django.urls import path

from yiwang.cases.views import console, portal

portal_patterns = [
    path("services/<str:implementation_code>/apply/", portal.apply, name="service_apply"),
    path("my/cases/", portal.my_cases, name="my_cases"),
    path("my/cases/<int:case_id>/", portal.case_detail, name="case_detail"),
    path("my/cases/<int:case_id>/edit/", portal.case_edit, name="case_edit"),
    path("my/cases/<int:case_id>/materials/", portal.upload_material, name="case_upload"),
    path(
        "my/cases/<int:case_id>/materials/<int:file_id>/delete/",
        portal.remove_material,
        name="case_remove_material",
    ),
    path("my/cases/<int:case_id>/submit/", portal.submit, name="case_submit"),
    path("my/cases/<int:case_id>/licenses/use/", portal.use_license, name="case_use_license"),
    path("my/cases/<int:case_id>/licenses/stop/", portal.stop_license, name="case_stop_license"),
    path("my/cases/<int:case_id>/withdraw/", portal.withdraw, name="case_withdraw"),
    path("my/cases/<int:case_id>/discard/", portal.discard, name="case_discard"),
    path("my/cases/<int:case_id>/result/", portal.result, name="case_result"),
    path("my/cases/<int:case_id>/files/<int:file_id>/", portal.download, name="case_file"),
]

console_patterns = [
    path("cases/", console.inbox, name="case_inbox"),
    path("cases/all/", console.department_cases, name="case_list"),
    path("cases/<int:case_id>/", console.case_detail, name="case_detail"),
    path("cases/<int:case_id>/conclude/", console.conclude, name="case_conclude"),
    path("cases/<int:case_id>/deliver/", console.deliver, name="case_deliver"),
    path("cases/<int:case_id>/special/", console.special_procedure, name="case_special"),
    path("cases/<int:case_id>/files/<int:file_id>/", console.download, name="case_file"),
    path("cases/tasks/<int:task_id>/act/", console.act, name="task_act"),
    path("cases/tasks/<int:task_id>/claim/", console.claim, name="task_claim"),
    path("cases/tasks/<int:task_id>/unclaim/", console.unclaim, name="task_unclaim"),
    path("cases/tasks/<int:task_id>/transfer/", console.transfer, name="task_transfer"),
]
