from django.core.management.base import BaseCommand, CommandError

from yiwang.hotline import routing_train


def _share(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "训练智能派单模型:以已结案工单的最终承办部门为标签,留出最近结案的一部分作测试集,"
        "输出首选/前三准确率、各部门指标和各置信度阈值下的准确率,并启用新模型。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--test-share",
            type=_share,
            default=routing_train.TEST_SHARE,
            help="share of the most recently closed tickets held out for testing (default 0.2)",
        )
        parser.add_argument(
            "--target-precision",
            type=_share,
            default=routing_train.TARGET_PRECISION,
            help="precision the recommended auto-dispatch threshold must reach (default 0.98)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="measure only: do not store the model or change the active one",
        )

    def handle(self, *args, test_share: float, target_precision: float, dry_run: bool, **options):
        try:
            if dry_run:
                samples = routing_train.closed_samples()
                _, report = routing_train.evaluate(
                    samples, test_share, target_precision, refit=False
                )
            else:
                model = routing_train.train_and_store(None, test_share, target_precision)
                report = model.report
        except routing_train.TrainingError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(routing_train.describe(report))
        if dry_run:
            self.stdout.write("(--dry-run: 未保存模型)")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"模型 #{model.pk} 已启用,训练样本 {model.trained_on} 张(含测试集)。"
                )
            )
