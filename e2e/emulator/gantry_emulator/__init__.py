"""gantry's extensions to moto's server (moto[server] 5.2.5, pinned in
scripts/requirements.txt). See e2e/emulator/README.md for what each does and
why.

``install()`` must run before the server handles its first request: moto
builds its list of CloudFormation models from
``CloudFormationModel.__subclasses__()`` once and caches it
(``moto.cloudformation.parsing.get_model_list`` is ``lru_cache``d). install()
imports the model modules -- defining the classes registers them -- and
clears those caches so that the new types are seen even if something looked
the list up earlier. It is idempotent.

This package imports moto only inside install(), so test discovery can walk
the folder without loading moto.
"""

from __future__ import annotations

# The CloudFormation types the extension models add.
MODEL_TYPES = (
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::Secret",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::Scheduler::Schedule",
)

PINNED_MOTO = "5.2.5"

_installed = False


def install() -> None:
    """Register every extension with moto. Call once, before serving."""
    global _installed
    if _installed:
        return

    import moto
    from moto.cloudformation import parsing

    if moto.__version__ != PINNED_MOTO:
        import warnings

        warnings.warn(
            f"gantry's emulator extensions were written for moto {PINNED_MOTO}, "
            f"not {moto.__version__}; rerun e2e/emulator's tests",
            stacklevel=2,
        )

    # Model modules: defining the classes registers them.
    from . import appautoscaling, cloudwatch_alarm, elasticache, s3_bucket_policy, secretsmanager  # noqa: F401

    # Patches of moto's behaviour.
    from . import changesets, deletes, dynamodb_atomic, elbv2, events, kms, rds, replacement, termination_protection, updates
    from . import ecs_tasks, scheduler, template_limits  # noqa: F401

    for module in (events, secretsmanager, rds, elbv2, kms, deletes, replacement, updates, changesets, termination_protection, dynamodb_atomic):
        module.install()
    template_limits.install()
    ecs_tasks.install()

    # DynamoDB, SQS and SNS as gantry renders them (issue 11); after updates.
    from . import delete_failed, dynamodb_table, retain, sns_subscription, sns_topic, sqs_queue, sqs_queue_policy  # noqa: F401

    for module in (dynamodb_table, sqs_queue, sns_topic, retain, delete_failed):
        module.install()

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    missing = [t for t in MODEL_TYPES if t not in parsing.get_model_map()]
    if missing:
        raise RuntimeError(f"gantry emulator: models not registered with moto: {missing}")
    _installed = True
