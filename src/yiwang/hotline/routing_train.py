"""Training and measuring smart routing (docs/hotline-routing.md).

The label of a closed ticket is the department that finally handled it (its lead
department at closing: after any 退单 and re-dispatch), the input its description. The
most recently closed share is held out: the model is fitted on the older tickets and
measured on the newest, as it will meet next month's, and the figures (top-1, top-3,
per department, precision at confidence thresholds) are stored with the model. The
stored model is then fitted again on all of them, so the newest practice counts too.
scikit-learn fits; what is kept, measured and served is `routing.Scorer`.

Why this model: jieba words plus character 1-2-grams, TF-IDF, multinomial logistic
regression. On the demo's held-out split it is as accurate as the alternatives tried
(linear SVM, SGD, naive Bayes, char 1-3-grams) and its probabilities are the best
calibrated without a separate calibration step (SGD needs one, naive Bayes is
overconfident), which is what a dispatch threshold relies on; one model and one
matrix product per suggestion also keeps `suggest` well under a millisecond.
"""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yiwang.audit.services import record
from yiwang.hotline import routing
from yiwang.hotline.models import RoutingModel, Ticket
from yiwang.hotline.routing import Scorer, char_ngrams
from yiwang.identity.models import Department

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
TARGET_PRECISION = 0.98
TEST_SHARE = 0.2
MIN_TICKETS = 30
C = 30.0
MIN_DF = 2
ALGORITHM = "jieba 词 + 字符 1-2 元 TF-IDF,多项逻辑回归"


class TrainingError(ValidationError):
    """Not enough (or not varied enough) closed tickets to learn from."""


@dataclass(frozen=True)
class Sample:
    text: str
    department_id: int
    closed_at: Any


def closed_samples() -> list[Sample]:
    """Closed tickets with their final lead department, oldest closing first."""
    rows = (
        Ticket.objects.filter(
            status=Ticket.Status.CLOSED, lead_department__isnull=False, closed_at__isnull=False
        )
        .order_by("closed_at", "id")
        .values_list("description", "lead_department_id", "closed_at")
    )
    return [Sample(text, department, closed) for text, department, closed in rows.iterator()]


def fit_estimators(texts: Sequence[str], tokens: Sequence[list[str]], labels: Sequence[int]):
    """The two TF-IDF vectorizers and the classifier, fitted with scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if len(set(labels)) < 2:
        raise TrainingError("训练样本至少要涉及 2 个承办部门")
    word = TfidfVectorizer(analyzer=_given, sublinear_tf=True, min_df=MIN_DF)
    char = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=MIN_DF)
    try:
        matrix = stack(word.fit_transform(tokens), char.fit_transform(texts))
    except ValueError as exc:  # every word occurs once: nothing to learn from
        raise TrainingError(f"工单内容过少,无法提取特征({exc})") from exc
    classifier = LogisticRegression(C=C, max_iter=300, tol=1e-3)
    # The solver's vector operations are small: BLAS threads only spin against each other
    # (ten times slower on two busy cores).
    with threadpool_limits(limits=1):
        classifier.fit(matrix, list(labels))
    return word, char, classifier


def stack(*blocks):
    from scipy.sparse import hstack

    return hstack(blocks).tocsr()


def fit(texts: Sequence[str], tokens: Sequence[list[str]], labels: Sequence[int]) -> Scorer:
    """Fit with scikit-learn and keep only the numbers `suggest` needs."""
    word, char, classifier = fit_estimators(texts, tokens, labels)
    coefficients, intercept = classifier.coef_, classifier.intercept_
    if len(classifier.classes_) == 2:  # a binary model keeps one row: spell out both
        coefficients = np.vstack([-coefficients[0] / 2, coefficients[0] / 2])
        intercept = np.asarray([-intercept[0] / 2, intercept[0] / 2])
    return Scorer(
        [int(c) for c in classifier.classes_],
        (_columns(word.vocabulary_), _columns(char.vocabulary_)),
        (word.idf_, char.idf_),
        coefficients,
        intercept,
    )


def _given(tokens: list[str]) -> list[str]:
    return tokens


def _columns(vocabulary: dict) -> dict[str, int]:
    return {str(term): int(column) for term, column in vocabulary.items()}


def measure(
    scorer: Scorer,
    texts: Sequence[str],
    tokens: Sequence[list[str]],
    labels: Sequence[int],
    train_counts: Counter,
    target_precision: float,
) -> dict[str, Any]:
    """Top-1, top-3, per department, and precision/share at each confidence threshold."""
    ids = scorer.departments
    rows = [scorer.probabilities(t, w) for t, w in zip(texts, tokens, strict=True)]
    names = dict(Department.objects.filter(pk__in={*ids, *labels}).values_list("pk", "name"))
    top1 = top3 = 0
    per: dict[int, Counter] = {}
    confusions: Counter = Counter()
    scored = []
    for probabilities, label in zip(rows, labels, strict=True):
        order = sorted(range(len(ids)), key=lambda i: -probabilities[i])
        first = ids[order[0]]
        three = [ids[i] for i in order[:3]]
        hit = first == label
        top1 += hit
        top3 += label in three
        scored.append((probabilities[order[0]], hit))
        per.setdefault(label, Counter())["test"] += 1
        per[label]["top1"] += hit
        per[label]["top3"] += label in three
        per.setdefault(first, Counter())["predicted"] += 1
        per[first]["right"] += hit
        if not hit:
            confusions[(label, first)] += 1
    n = len(labels)
    thresholds = []
    for threshold in THRESHOLDS:
        above = [hit for confidence, hit in scored if confidence >= threshold]
        thresholds.append(
            {
                "threshold": threshold,
                "count": len(above),
                "share": _ratio(len(above), n),
                "precision": _ratio(sum(above), len(above)),
            }
        )
    recommended = next(
        (
            t["threshold"]
            for t in thresholds
            if t["count"] and t["precision"] is not None and t["precision"] >= target_precision
        ),
        None,
    )
    departments = [
        {
            "id": pk,
            "name": names.get(pk, str(pk)),
            "train": train_counts.get(pk, 0),
            "test": c["test"],
            "top1": _ratio(c["top1"], c["test"]),
            "top3": _ratio(c["top3"], c["test"]),
            "precision": _ratio(c["right"], c["predicted"]),
        }
        for pk, c in sorted(per.items(), key=lambda item: -item[1]["test"])
    ]
    return {
        "top1": _ratio(top1, n),
        "top3": _ratio(top3, n),
        "thresholds": thresholds,
        "target_precision": target_precision,
        "recommended_threshold": recommended,
        "departments": departments,
        "confusions": [
            {"true": names.get(a, str(a)), "predicted": names.get(b, str(b)), "count": count}
            for (a, b), count in confusions.most_common(10)
        ],
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluate(
    samples: Sequence[Sample],
    test_share: float = TEST_SHARE,
    target_precision: float = TARGET_PRECISION,
    refit: bool = True,
) -> tuple[Scorer, dict[str, Any]]:
    """Fit on the older tickets, measure on the newest `test_share`, then (refit) fit on all."""
    if not 0 < test_share < 1:
        raise TrainingError({"test_share": ["测试集比例应在 0 与 1 之间(如 0.2)"]})
    if len(samples) < MIN_TICKETS:
        raise TrainingError(
            f"已结案工单只有 {len(samples)} 张,至少需要 {MIN_TICKETS} 张才能训练智能派单模型"
        )
    seconds: dict[str, float] = {}
    started = time.monotonic()
    texts = [s.text[: routing.MAX_CHARS] for s in samples]
    tokens = [routing.words(t) for t in texts]
    labels = [s.department_id for s in samples]
    seconds["segment"] = time.monotonic() - started
    cut = len(samples) - max(1, round(len(samples) * test_share))
    started = time.monotonic()
    scorer = fit(texts[:cut], tokens[:cut], labels[:cut])
    seconds["fit"] = time.monotonic() - started
    started = time.monotonic()
    report = measure(
        scorer,
        texts[cut:],
        tokens[cut:],
        labels[cut:],
        Counter(labels[:cut]),
        target_precision,
    )
    seconds["measure"] = time.monotonic() - started
    if refit:
        started = time.monotonic()
        scorer = fit(texts, tokens, labels)
        seconds["refit"] = time.monotonic() - started
    report.update(
        algorithm=ALGORITHM,
        parameters={
            "C": C,
            "char_ngrams": list(routing.CHAR_NGRAMS),
            "min_df": MIN_DF,
            "test_share": test_share,
        },
        split={
            "train": cut,
            "test": len(samples) - cut,
            "train_closed": [_day(samples[0].closed_at), _day(samples[cut - 1].closed_at)],
            "test_closed": [_day(samples[cut].closed_at), _day(samples[-1].closed_at)],
        },
        stored_model_trained_on=len(samples) if refit else cut,
        seconds={k: round(v, 2) for k, v in seconds.items()},
        versions=_versions(),
    )
    return scorer, report


def _day(moment: Any) -> str:
    return timezone.localtime(moment).date().isoformat()


def _versions() -> dict[str, str]:
    import jieba
    import sklearn

    return {"scikit-learn": sklearn.__version__, "jieba": jieba.__version__}


def train_and_store(
    actor: Any = None,
    test_share: float = TEST_SHARE,
    target_precision: float = TARGET_PRECISION,
) -> RoutingModel:
    """Train on every closed ticket, store the model as the active one, retire the others."""
    scorer, report = evaluate(closed_samples(), test_share, target_precision)
    blob = scorer.dumps()
    with transaction.atomic():
        model = RoutingModel.objects.create(
            algorithm=ALGORITHM,
            trained_on=report["stored_model_trained_on"],
            tested_on=report["split"]["test"],
            top1=report["top1"],
            top3=report["top3"],
            report=report,
            blob=blob,
            is_active=True,
        )
        RoutingModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        record(
            actor,
            "hotline.train_routing",
            model,
            after={
                "top1": model.top1,
                "top3": model.top3,
                "trained_on": model.trained_on,
                "tested_on": model.tested_on,
                "recommended_threshold": report["recommended_threshold"],
            },
        )
    routing.forget()
    return model


def describe(report: dict[str, Any]) -> str:
    """The report as the command prints it."""
    split = report["split"]
    lines = [
        f"算法: {report['algorithm']}",
        f"训练集: {split['train']} 张(结案 {split['train_closed'][0]} 至 "
        f"{split['train_closed'][1]});测试集(最近 {split['test']} 张,结案 "
        f"{split['test_closed'][0]} 至 {split['test_closed'][1]})",
        f"首选准确率 top-1: {report['top1']:.2%}   前三准确率 top-3: {report['top3']:.2%}",
        "",
        "置信度阈值   覆盖工单   首选准确率",
    ]
    for t in report["thresholds"]:
        precision = "—" if t["precision"] is None else f"{t['precision']:.2%}"
        lines.append(f"  ≥ {t['threshold']:.2f}     {t['share']:7.1%}    {precision}")
    recommended = report["recommended_threshold"]
    target = report["target_precision"]
    lines.append(
        f"建议自动派单阈值(准确率 ≥ {target:.0%} 的最低阈值): "
        + (f"YIWANG_HOTLINE_AUTO_DISPATCH={recommended}" if recommended else "无,不宜自动派单")
    )
    lines += ["", "部门                                    测试  top-1   top-3   精确率"]
    for d in report["departments"]:
        cells = [_percent(d[k]) for k in ("top1", "top3", "precision")]
        lines.append(f"  {d['name'][:18]:<20}{d['test']:>6}  " + "  ".join(cells))
    if report["confusions"]:
        lines += ["", "最常见的错派(实际 → 建议):"]
        lines += [f"  {c['true']} → {c['predicted']}: {c['count']}" for c in report["confusions"]]
    seconds = report["seconds"]
    lines.append("")
    lines.append("用时: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "     —" if value is None else f"{value:6.1%}"
