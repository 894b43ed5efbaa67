"""Smart routing learns departments from closed tickets, suggests its top 3 with honest
confidences, says nothing without a model, and follows a retrained one."""

import datetime as dt
import io
import itertools
import random

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.hotline import routing, routing_train
from yiwang.hotline.models import RoutingModel, Ticket
from yiwang.identity.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ROADS = ["东湖路", "湖滨路", "政通路", "西河街", "兴业路", "福民路", "南湖大道", "幸福路"]
# What callers say about each department's matters (a small, varied generated set).
TOPICS = {
    "城管": [
        "{road}的路灯不亮了,晚上黑乎乎的",
        "{road}有一排路灯坏了好几天",
        "小区门口的路灯一闪一闪的,{road}这边很黑",
        "{road}路灯杆被撞歪了,灯也不亮",
        "{road}垃圾桶满了没人清运,臭得很",
    ],
    "环保": [
        "{road}的饭店油烟太大,熏得窗户都不能开",
        "{road}工地半夜施工噪音太吵了",
        "{road}的KTV每天晚上噪声扰民",
        "{road}附近的工厂排废气,味道刺鼻",
        "{road}河道发黑发臭,有人偷排污水",
    ],
    "人社": [
        "老板拖欠工资两个月了,在{road}的工地",
        "{road}一家餐馆不发工资,老板跑了",
        "公司拖欠我三个月工资不给",
        "离职了工资一直不给结清,公司在{road}",
        "包工头欠薪跑路,{road}项目二十多个工人",
    ],
    "市场监管": [
        "{road}小区电梯坏了困人",
        "{road}超市卖过期食品",
        "电梯经常停运,{road}那栋楼的老人爬楼很难",
        "在{road}买到变质的牛奶",
        "{road}商场扶梯突然停了",
    ],
}
EXTRAS = ["", "", "麻烦尽快处理。", "希望有人管一管。", "已经好几天了。", "谢谢!"]


def texts_for(topic: str, count: int, rng: random.Random) -> list[str]:
    return [
        rng.choice(TOPICS[topic]).format(road=rng.choice(ROADS)) + rng.choice(EXTRAS)
        for _ in range(count)
    ]


_numbers = itertools.count(1)


def close_tickets(department, texts: list[str], start: dt.datetime) -> list[Ticket]:
    """Closed tickets the way the loop leaves them: the final lead department, a closing time."""
    tickets = [
        Ticket(
            number=f"T{next(_numbers):08d}",
            channel=Ticket.Channel.PHONE,
            kind=Ticket.Kind.COMPLAINT,
            description=text,
            status=Ticket.Status.CLOSED,
            lead_department=department,
            closed_at=start + dt.timedelta(hours=i),
        )
        for i, text in enumerate(texts)
    ]
    return Ticket.objects.bulk_create(tickets)


@pytest.fixture
def departments():
    return {topic: DepartmentFactory(name=f"示范市{topic}部门") for topic in TOPICS}


@pytest.fixture
def history(departments):
    """40 closed tickets a department, spread over the past weeks (topics interleaved)."""
    rng = random.Random(5)
    start = timezone.now() - dt.timedelta(days=60)
    for n, (topic, department) in enumerate(departments.items()):
        close_tickets(department, texts_for(topic, 40, rng), start + dt.timedelta(minutes=n))
    return departments


@pytest.fixture(autouse=True)
def _fresh_routing_cache(settings):
    settings.YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS = 0
    routing.forget()
    yield
    routing.forget()


def test_without_a_trained_model_there_are_no_suggestions(departments):
    assert routing.suggest("东湖路的路灯不亮了") == []
    RoutingModel.objects.create(
        algorithm="old", trained_on=1, tested_on=1, top1=1, top3=1, blob=b"x", is_active=False
    )
    assert routing.suggest("东湖路的路灯不亮了") == [], "an inactive model does not serve"


def test_clear_texts_are_routed_to_their_department_first(history):
    routing_train.train_and_store()
    cases = {
        "城管": "幸福路的路灯坏了,晚上一片漆黑",
        "环保": "楼下饭店的油烟直往我家窗户里钻",
        "人社": "老板欠了我们半年的工资",
        "市场监管": "我们楼的电梯又坏了,有人被困",
    }
    for topic, text in cases.items():
        best = routing.suggest(text)[0]
        assert best.department_id == history[topic].pk, (text, best)
        assert best.department_name == history[topic].name


def test_confidences_are_sorted_and_sum_to_at_most_one(history):
    routing_train.train_and_store()
    for text in ["路灯不亮", "工地噪音和灰尘", "随便说点什么", "电梯 工资 油烟 路灯"]:
        suggestions = routing.suggest(text)
        assert len(suggestions) == 3
        confidences = [s.confidence for s in suggestions]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0 <= c <= 1 for c in confidences)
        assert sum(confidences) <= 1 + 1e-9
        assert len({s.department_id for s in suggestions}) == 3
    assert len(routing.suggest("路灯不亮", k=10)) == 4, "never more than the departments known"
    assert routing.suggest("路灯不亮", k=0) == []
    assert routing.suggest("   ") == []


@pytest.mark.parametrize("topics", [list(TOPICS), ["城管", "人社"]], ids=["four", "two"])
def test_the_stored_model_scores_exactly_as_scikit_learn_does(history, topics):
    wanted = {history[t].pk for t in topics}
    samples = [s for s in routing_train.closed_samples() if s.department_id in wanted]
    texts = [s.text for s in samples]
    tokens = [routing.words(t) for t in texts]
    labels = [s.department_id for s in samples]
    word, char, classifier = routing_train.fit_estimators(texts, tokens, labels)
    scorer = routing.Scorer.loads(routing_train.fit(texts, tokens, labels).dumps())
    probe = ["幸福路的路灯坏了", "老板不发工资", "电梯困人了,赶紧来", "完全无关的一句话"]
    expected = classifier.predict_proba(
        routing_train.stack(
            word.transform([routing.words(t) for t in probe]), char.transform(probe)
        )
    )
    got = np.array([scorer.probabilities(t) for t in probe])
    assert scorer.departments == [int(c) for c in classifier.classes_]
    assert np.allclose(got, expected, atol=1e-9)


def test_training_holds_out_the_most_recently_closed_fifth(history):
    model = routing_train.train_and_store()
    report = model.report
    assert report["split"] == {
        "train": 128,
        "test": 32,
        "train_closed": report["split"]["train_closed"],
        "test_closed": report["split"]["test_closed"],
    }
    assert report["split"]["train_closed"][1] <= report["split"]["test_closed"][0]
    assert model.tested_on == 32 and model.trained_on == 160, "the stored model learns from all"
    assert 0.8 <= model.top1 <= model.top3 <= 1
    assert [t["threshold"] for t in report["thresholds"]] == [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    for row in report["thresholds"]:
        assert row["share"] <= 1 and (row["precision"] is None or row["precision"] <= 1)
    assert {d["name"] for d in report["departments"]} == {d.name for d in history.values()}


def test_retraining_retires_the_old_model_and_suggestions_follow_the_new_one(history):
    first = routing_train.train_and_store()
    pension = DepartmentFactory(name="示范市公积金中心")
    text = "请问公积金提取需要什么材料"
    assert pension.pk not in {s.department_id for s in routing.suggest(text, k=5)}
    rng = random.Random(9)
    questions = ["公积金怎么提取", "租房提取公积金", "公积金贷款额度", "公积金转移怎么办"]
    close_tickets(
        pension,
        [rng.choice(questions) + rng.choice(EXTRAS) for _ in range(40)],
        timezone.now() - dt.timedelta(days=1),
    )
    # Another process saves the newer model: this one notices at its next check.
    scorer, report = routing_train.evaluate(routing_train.closed_samples())
    newer = RoutingModel.objects.create(
        algorithm=routing_train.ALGORITHM,
        trained_on=report["stored_model_trained_on"],
        tested_on=report["split"]["test"],
        top1=report["top1"],
        top3=report["top3"],
        report=report,
        blob=scorer.dumps(),
    )
    assert routing.suggest(text)[0].department_id == pension.pk
    second = routing_train.train_and_store()
    assert list(RoutingModel.objects.filter(is_active=True)) == [second]
    first.refresh_from_db()
    newer.refresh_from_db()
    assert not first.is_active and not newer.is_active


def test_a_model_is_rechecked_only_after_the_refresh_interval(history, settings):
    routing_train.train_and_store()
    settings.YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS = 3600
    assert routing.suggest("幸福路的路灯坏了")
    RoutingModel.objects.update(is_active=False)
    assert routing.suggest("幸福路的路灯坏了"), "within the interval the loaded model serves"
    routing.forget()
    assert routing.suggest("幸福路的路灯坏了") == []


def test_an_unreadable_model_gives_no_suggestions_instead_of_an_error(history, caplog):
    RoutingModel.objects.create(
        algorithm="broken", trained_on=1, tested_on=1, top1=1, top3=1, blob=b"not a model"
    )
    assert routing.suggest("幸福路的路灯坏了") == []
    assert "cannot be read" in caplog.text


def test_registering_a_ticket_remembers_the_suggestion(world):
    rng = random.Random(3)
    start = timezone.now() - dt.timedelta(days=30)
    close_tickets(world.department, texts_for("城管", 40, rng), start)
    close_tickets(DepartmentFactory(), texts_for("人社", 40, rng), start)
    routing_train.train_and_store()
    ticket = world.do(world.report(), "register")
    assert ticket.suggested_department == world.department
    assert 0.5 < ticket.suggestion_confidence <= 1


def test_too_few_closed_tickets_is_a_clear_error(departments):
    close_tickets(departments["城管"], ["路灯不亮了"] * 5, timezone.now())
    with pytest.raises(routing_train.TrainingError, match="至少需要 30 张"):
        routing_train.train_and_store()
    with pytest.raises(CommandError, match="至少需要 30 张"):
        call_command("train_routing", stdout=io.StringIO())
    assert not RoutingModel.objects.exists()


def test_one_department_alone_cannot_be_learned(departments):
    rng = random.Random(1)
    close_tickets(departments["城管"], texts_for("城管", 40, rng), timezone.now())
    with pytest.raises(routing_train.TrainingError, match="2 个承办部门"):
        routing_train.train_and_store()


def test_the_command_prints_the_figures_stores_and_audits_the_model(history):
    out = io.StringIO()
    call_command("train_routing", stdout=out)
    text = out.getvalue()
    assert "top-1" in text and "top-3" in text
    for threshold in ("0.50", "0.70", "0.90"):
        assert f"≥ {threshold}" in text
    assert history["城管"].name[:18] in text
    assert "YIWANG_HOTLINE_AUTO_DISPATCH" in text or "不宜自动派单" in text
    model = RoutingModel.objects.get(is_active=True)
    assert AuditEvent.objects.filter(
        action="hotline.train_routing", object_id=str(model.pk)
    ).exists()


def test_a_dry_run_measures_without_storing(history):
    out = io.StringIO()
    call_command("train_routing", "--dry-run", "--test-share", "0.25", stdout=out)
    assert "测试集(最近 40 张" in out.getvalue()
    assert not RoutingModel.objects.exists()


def test_a_test_share_outside_0_and_1_is_refused(history):
    with pytest.raises(CommandError):
        call_command("train_routing", "--test-share", "1.5", stdout=io.StringIO())
