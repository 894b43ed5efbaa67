"""Micro-benchmark of yiwang.search on 5,000 synthetic catalog documents.

    .venv/bin/python bench/search_index.py [--documents 5000] [--rounds 30]

Uses a throwaway SQLite file (or DATABASE_URL if set: point it at a scratch
database) and prints indexing time and query latency (p50/p95) per query.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

WORDS_TEXT = (
    "食品 经营 许可 营业执照 个体工商户 企业 设立 变更 注销 登记 备案 核发 出生 医学 证明 生育 "
    "户籍 迁移 落户 居住证 身份证 换领 补领 不动产 抵押 公积金 提取 贷款 社会保险 养老 医疗 失业 "
    "工伤 机动车 驾驶证 年检 道路 运输 建设 工程 规划 施工 消防 验收 环境 影响 评价 排污 药品 "
    "医疗器械 卫生 教师 资格 职业 技能 残疾人 低保 救助 婚姻 收养 殡葬 税务 发票 申报 出入境 护照"
)
FILLER_TEXT = (
    "申请人 应当 提交 材料 原件 复印件 窗口 受理 审查 决定 送达 工作日 法定 承诺 时限 收费 标准 "
    "依据 条例 办法 规定 符合 条件 相关 部门 现场 核查 网上 办理 预约 咨询 电话 监督 投诉"
)
NICKNAMES_TEXT = "开饭店 开餐馆 生孩子 办证 买房 卖房 换驾照 开公司 领结婚证 退休 看病报销 上户口"
WORDS, FILLER, NICKNAMES = WORDS_TEXT.split(), FILLER_TEXT.split(), NICKNAMES_TEXT.split()
QUERIES = [
    ("营业执照", {}),
    ("开饭店", {}),
    ("食品经营许可", {}),
    ("生孩子", {}),
    ("公积金提取", {}),
    ("我想开一家饭店需要办什么手续", {}),
    ("驾驶证", {"department": "7"}),
    ("", {"department": "12"}),
    ("", {}),
    ("登记", {"item_type": "01"}),
    ("护照 出入境 签注 港澳", {}),
]


def setup_django() -> None:
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="searchbench-")
        os.environ["YIWANG_SQLITE_PATH"] = os.path.join(scratch, "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "search", verbosity=0)


def documents(n: int, rng: random.Random):
    from yiwang.search.services import Document

    for i in range(1, n + 1):
        title = "".join(rng.sample(WORDS, rng.randint(2, 4)))
        body = "".join(rng.choice(WORDS + FILLER * 3) for _ in range(rng.randint(80, 250)))
        yield Document(
            object_id=i,
            title=title,
            keywords=rng.sample(NICKNAMES, rng.randint(0, 2)),
            body=body,
            facets={
                "department": str(rng.randint(1, 40)),
                "item_type": rng.choice(["01", "07", "20"]),
                "theme": rng.sample(["birth", "housing", "business", "car", "work"], 2),
            },
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    from django.db import connection, transaction

    from yiwang.search import selectors, services, tokenize

    rng = random.Random(42)
    docs = list(documents(args.documents, rng))
    started = time.perf_counter()
    tokenize("预热")
    print(f"jieba load: {time.perf_counter() - started:.2f} s")

    services.register_provider("bench", lambda: docs)
    started = time.perf_counter()
    services.rebuild("bench")
    print(f"rebuild {len(docs)} documents: {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    with transaction.atomic():
        for d in docs[:500]:
            services.index_document(
                "bench",
                d.object_id,
                title=d.title,
                keywords=d.keywords,
                body=d.body,
                facets=d.facets,
            )
    per_doc = (time.perf_counter() - started) / 500 * 1000
    print(f"index_document (replace): {per_doc:.2f} ms per document")

    print(f"{'query':<34} {'facets':<20} {'total':>6} {'p50 ms':>7} {'p95 ms':>7}")
    everything = []
    for query, facets in QUERIES:
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            page = selectors.search("bench", query, facets=facets, limit=20)
            times.append((time.perf_counter() - t0) * 1000)
        everything.extend(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"{query!r:<34} {facets!s:<20} {page.total:>6} "
            f"{statistics.median(times):>7.2f} {p95:>7.2f}"
        )
    print(
        f"all queries ({connection.vendor}): p50 {statistics.median(everything):.2f} ms, "
        f"p95 {statistics.quantiles(everything, n=20)[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
