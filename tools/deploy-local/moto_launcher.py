"""
moto in server mode, with what `npm run deploy:local` needs on top: CloudFormation models for the resource types
moto 5.2 skips (it logs a warning and still reports CREATE_COMPLETE), and the CDK custom resources answered here
instead of by their Lambda functions (moto runs functions only in Docker; unanswered, a stack waits forever).

Each model creates the real thing in moto's own backends, so it can be read back through the AWS APIs the smoke
checks use (DescribeAlarms, GetFunctionEventInvokeConfig, GetSubscriptionAttributes, GetQueueAttributes,
GetTopicAttributes, GetBucketPolicy, GetBucketNotificationConfiguration). A custom resource type not listed here
fails its stack at once, with its name, rather than hanging (see install()).

Usage: python3 tools/deploy-local/moto_launcher.py [--host 127.0.0.1] [--port 0] [--skip TYPE ...]
Prints `moto listening on http://HOST:PORT` once it accepts requests (port 0: a free port chosen by the OS).
`--skip TYPE` leaves a model out (moto then skips the type as it does unpatched): how `deploy:local --skip-model` shows that a
resource the emulator does not create fails the deploy.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

try:
    import moto  # noqa: F401
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.awslambda.models import lambda_backends
    from moto.s3.models import FakeBucket, s3_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError as error:  # the caller prints the install line
    print(f"moto[server] is not installed: {error}", file=sys.stderr)
    sys.exit(3)


# moto files every model class under the service named by its module's second dotted part (`moto.sqs.models`):
# the classes below are defined under such a name, and the module's own name is restored after them.
_MODULE_NAME = __name__
__name__ = "deploy_local.launcher"  # noqa: A001


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def _policy_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


class _Model(CloudFormationModel):
    """A resource this launcher models: a physical id, attributes for Fn::GetAtt, created at once."""

    TYPE = "?"

    def __init__(self, physical_id: str, attributes: dict[str, Any] | None = None) -> None:
        self._physical_id = physical_id
        self._attributes = attributes or {}

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override]
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self._attributes:
            return self._attributes[attribute_name]
        raise parsing.UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Not called: ResourceMap deletes through the instance's delete()."""

    def delete(self, account_id: str, region_name: str) -> None:  # overridden where there is something to undo
        return None


class Alarm(_Model):
    """AWS::CloudWatch::Alarm, created with PutMetricAlarm's backend call (metric alarms, math included)."""

    TYPE = "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "Alarm":
        from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat

        p = cloudformation_json["Properties"]
        name = p.get("AlarmName") or resource_name
        queries = None
        if p.get("Metrics"):
            queries = []
            for m in p["Metrics"]:
                stat = m.get("MetricStat")
                metric_stat = None
                if stat:
                    metric = stat["Metric"]
                    metric_stat = MetricStat(
                        metric=Metric(
                            metric_name=metric.get("MetricName"),
                            namespace=metric.get("Namespace"),
                            dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])],
                        ),
                        period=stat.get("Period"),
                        stat=stat.get("Stat"),
                        unit=stat.get("Unit"),
                    )
                queries.append(
                    MetricDataQuery(
                        query_id=m.get("Id"),
                        label=m.get("Label"),
                        period=m.get("Period"),
                        return_data=m.get("ReturnData"),
                        expression=m.get("Expression"),
                        metric_stat=metric_stat,
                    )
                )
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            metric_data_queries=queries,
            comparison_operator=p.get("ComparisonOperator"),
            evaluation_periods=p.get("EvaluationPeriods"),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            period=p.get("Period"),
            threshold=p.get("Threshold"),
            statistic=p.get("Statistic"),
            extended_statistic=p.get("ExtendedStatistic"),
            description=p.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=p.get("ActionsEnabled", True) in (True, "true", "True"),
            treat_missing_data=p.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=p.get("ThresholdMetricId"),
            tags=p.get("Tags", []),
        )
        arn = f"arn:{_partition(region_name)}:cloudwatch:{region_name}:{account_id}:alarm:{name}"
        return cls(name, {"Arn": arn})

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self._physical_id])


class EventInvokeConfig(_Model):
    """AWS::Lambda::EventInvokeConfig: retries, event age and destinations of asynchronous invocation."""

    TYPE = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "EventInvokeConfig":
        p = cloudformation_json["Properties"]
        config = {
            key: p[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in p
        }
        function_name = p["FunctionName"]
        lambda_backends[account_id][region_name].put_function_event_invoke_config(function_name, config)
        instance = cls(f"{function_name}|{p.get('Qualifier', '$LATEST')}")
        instance.function_name = function_name
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_backends[account_id][region_name]
        try:
            backend.delete_function_event_invoke_config(self.function_name)
        except Exception:  # the function went first
            pass


class Subscription(_Model):
    """AWS::SNS::Subscription, with its attributes (RawMessageDelivery, RedrivePolicy, filters)."""

    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES = ("DeliveryPolicy", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy", "ReplayPolicy")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "Subscription":
        p = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(p["TopicArn"], p["Endpoint"], p["Protocol"])
        if "FilterPolicyScope" in p:
            backend.set_subscription_attributes(subscription.arn, "FilterPolicyScope", p["FilterPolicyScope"])
        for name in cls.ATTRIBUTES:
            if name not in p:
                continue
            value = p[name]
            if isinstance(value, (dict, list)):
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            backend.set_subscription_attributes(subscription.arn, name, str(value))
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self._physical_id)


class TopicPolicy(_Model):
    """AWS::SNS::TopicPolicy: the policy set on each topic (moto stores it; it enforces none)."""

    TYPE = "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "TopicPolicy":
        p = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        for topic_arn in p["Topics"]:
            backend.set_topic_attribute(topic_arn, "policy", _policy_text(p["PolicyDocument"]))
        return cls(resource_name)


class QueuePolicy(_Model):
    """AWS::SQS::QueuePolicy: the Policy attribute of each queue (moto stores it; it enforces none)."""

    TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "QueuePolicy":
        p = cloudformation_json["Properties"]
        backend = sqs_backends[account_id][region_name]
        names = [_queue_name(url) for url in p["Queues"]]
        for name in names:
            backend.set_queue_attributes(name, {"Policy": _policy_text(p["PolicyDocument"])})
        instance = cls(resource_name)
        instance.queue_names = names
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for name in self.queue_names:
            if name in backend.queues:
                backend.set_queue_attributes(name, {"Policy": ""})


class BucketPolicy(_Model):
    """AWS::S3::BucketPolicy: stored on the bucket and readable (GetBucketPolicy), not enforced (see below)."""

    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "BucketPolicy":
        p = cloudformation_json["Properties"]
        backend = s3_backends[account_id][_partition(region_name)]
        backend.put_bucket_policy(p["Bucket"], _policy_text(p["PolicyDocument"]).encode())
        instance = cls(resource_name)
        instance.bucket = p["Bucket"]
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][_partition(region_name)]
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)


class CdkMetadata(_Model):
    """AWS::CDK::Metadata: CloudFormation bookkeeping of the CDK (library versions); no AWS resource."""

    TYPE = "AWS::CDK::Metadata"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "CdkMetadata":
        return cls(resource_name)


class BucketNotifications(_Model):
    """Custom::S3BucketNotifications (CDK's BucketNotificationsHandler): the bucket's notification configuration."""

    TYPE = "Custom::S3BucketNotifications"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "BucketNotifications":
        p = cloudformation_json["Properties"]
        bucket = s3_backends[account_id][_partition(region_name)].get_bucket(p["BucketName"])
        cls._apply(bucket, p.get("NotificationConfiguration") or {})
        instance = cls(f"{p['BucketName']}-notifications")
        instance.bucket = p["BucketName"]
        return instance

    @staticmethod
    def _apply(bucket: Any, configuration: dict[str, Any]) -> None:
        # The API's shape (TopicConfigurations: [{TopicArn, Events, Filter}]) in the XML-derived shape moto keeps.
        # Set directly, without moto's test event: SNS would try to deliver it to the function (Docker).
        from moto.s3.models import NotificationConfiguration

        def convert(items: list[dict[str, Any]], arn_field: str, name: str) -> list[dict[str, Any]]:
            out = []
            for item in items:
                entry: dict[str, Any] = {name: item[arn_field], "Event": list(item["Events"])}
                if item.get("Id"):
                    entry["Id"] = item["Id"]
                rules = (item.get("Filter") or {}).get("Key", {}).get("FilterRules")
                if rules:
                    entry["Filter"] = {"S3Key": {"FilterRule": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
                out.append(entry)
            return out

        bucket.notification_configuration = NotificationConfiguration(
            topic=convert(configuration.get("TopicConfigurations", []), "TopicArn", "Topic"),
            queue=convert(configuration.get("QueueConfigurations", []), "QueueArn", "Queue"),
            cloud_function=convert(
                configuration.get("LambdaFunctionConfigurations", []), "LambdaFunctionArn", "CloudFunction"
            ),
            event_bridge=configuration.get("EventBridgeConfiguration"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][_partition(region_name)]
        if self.bucket in backend.buckets:
            backend.get_bucket(self.bucket).notification_configuration = None


class AutoDeleteObjects(_Model):
    """Custom::S3AutoDeleteObjects (CDK's auto-delete provider): nothing on create; empties the bucket on delete."""

    TYPE = "Custom::S3AutoDeleteObjects"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "AutoDeleteObjects":
        instance = cls(resource_name)
        instance.bucket = cloudformation_json["Properties"]["BucketName"]
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][_partition(region_name)]
        if self.bucket not in backend.buckets:
            return
        bucket = backend.get_bucket(self.bucket)
        for name, versions in list(bucket.keys.iterlists()):
            for version in list(versions):
                backend.delete_object(self.bucket, name, version_id=version.version_id, bypass=True)


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase property names as the REST API's camelCase (moto's API Gateway v2 keeps those)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def _apigatewayv2(account_id: str, region_name: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region_name]


class HttpApi(_Model):
    """AWS::ApiGatewayV2::Api (an HTTP or WebSocket API), created with CreateApi's backend call."""

    TYPE = "AWS::ApiGatewayV2::Api"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "HttpApi":
        p = cloudformation_json["Properties"]
        api = _apigatewayv2(account_id, region_name).create_api(
            api_key_selection_expression=p.get("ApiKeySelectionExpression"),
            cors_configuration=_camel(p.get("CorsConfiguration")),
            description=p.get("Description"),
            disable_schema_validation=p.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=p.get("DisableExecuteApiEndpoint"),
            name=p.get("Name") or resource_name,
            protocol_type=p.get("ProtocolType"),
            route_selection_expression=p.get("RouteSelectionExpression"),
            tags=p.get("Tags", {}),
            version=p.get("Version"),
        )
        return cls(api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint})

    def delete(self, account_id: str, region_name: str) -> None:
        _apigatewayv2(account_id, region_name).delete_api(self._physical_id)


class HttpApiIntegration(_Model):
    """AWS::ApiGatewayV2::Integration: what a route calls (a Lambda proxy here)."""

    TYPE = "AWS::ApiGatewayV2::Integration"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "HttpApiIntegration":
        p = cloudformation_json["Properties"]
        integration = _apigatewayv2(account_id, region_name).create_integration(
            api_id=p["ApiId"],
            connection_id=p.get("ConnectionId"),
            connection_type=p.get("ConnectionType"),
            content_handling_strategy=p.get("ContentHandlingStrategy"),
            credentials_arn=p.get("CredentialsArn"),
            description=p.get("Description"),
            integration_method=p.get("IntegrationMethod"),
            integration_subtype=p.get("IntegrationSubtype"),
            integration_type=p.get("IntegrationType"),
            integration_uri=p.get("IntegrationUri"),
            passthrough_behavior=p.get("PassthroughBehavior"),
            payload_format_version=p.get("PayloadFormatVersion"),
            request_parameters=p.get("RequestParameters"),
            request_templates=p.get("RequestTemplates"),
            response_parameters=p.get("ResponseParameters"),
            template_selection_expression=p.get("TemplateSelectionExpression"),
            timeout_in_millis=p.get("TimeoutInMillis"),
            tls_config=_camel(p.get("TlsConfig")),
        )
        instance = cls(integration.id, {"IntegrationId": integration.id})
        instance.api_id = p["ApiId"]
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _apigatewayv2(account_id, region_name)
        if self.api_id in backend.apis:
            backend.delete_integration(self.api_id, self._physical_id)


class HttpApiRoute(_Model):
    """AWS::ApiGatewayV2::Route: route key, authorization, target."""

    TYPE = "AWS::ApiGatewayV2::Route"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "HttpApiRoute":
        p = cloudformation_json["Properties"]
        route = _apigatewayv2(account_id, region_name).create_route(
            api_id=p["ApiId"],
            api_key_required=p.get("ApiKeyRequired", False),
            authorization_scopes=p.get("AuthorizationScopes"),
            authorization_type=p.get("AuthorizationType"),
            authorizer_id=p.get("AuthorizerId"),
            model_selection_expression=p.get("ModelSelectionExpression"),
            operation_name=p.get("OperationName"),
            request_models=p.get("RequestModels"),
            request_parameters=p.get("RequestParameters"),
            route_key=p["RouteKey"],
            route_response_selection_expression=p.get("RouteResponseSelectionExpression"),
            target=p.get("Target"),
        )
        instance = cls(route.route_id, {"RouteId": route.route_id})
        instance.api_id = p["ApiId"]
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _apigatewayv2(account_id, region_name)
        if self.api_id in backend.apis:
            backend.delete_route(self.api_id, self._physical_id)


class HttpApiStage(_Model):
    """AWS::ApiGatewayV2::Stage: auto-deploy, access logs, default and per-route throttling."""

    TYPE = "AWS::ApiGatewayV2::Stage"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "HttpApiStage":
        p = cloudformation_json["Properties"]
        config = {
            "stageName": p["StageName"],
            "autoDeploy": p.get("AutoDeploy"),
            "description": p.get("Description"),
            "accessLogSettings": _camel(p.get("AccessLogSettings")),
            "defaultRouteSettings": _camel(p.get("DefaultRouteSettings")),
            # Keyed by route key ("POST /orders"): the keys stay as they are.
            "routeSettings": {key: _camel(value) for key, value in (p.get("RouteSettings") or {}).items()},
            "stageVariables": p.get("StageVariables") or {},
            "tags": p.get("Tags") or {},
        }
        config = {key: value for key, value in config.items() if value is not None}
        _apigatewayv2(account_id, region_name).create_stage(p["ApiId"], config)
        instance = cls(p["StageName"])
        instance.api_id = p["ApiId"]
        return instance

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _apigatewayv2(account_id, region_name)
        if self.api_id in backend.apis:
            backend.delete_stage(self.api_id, self._physical_id)


class MetricFilter(_Model):
    """AWS::Logs::MetricFilter, created with PutMetricFilter's backend call (stored; moto turns no log line into a metric)."""

    TYPE = "AWS::Logs::MetricFilter"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "MetricFilter":
        from moto.logs.models import logs_backends

        p = cloudformation_json["Properties"]
        name = p.get("FilterName") or resource_name
        transformations = []
        for transformation in p["MetricTransformations"]:
            item = _camel({key: value for key, value in transformation.items() if key != "Dimensions"})
            # The API takes dimensions as a map; CloudFormation lists them as Key/Value pairs.
            if transformation.get("Dimensions"):
                item["dimensions"] = {pair["Key"]: pair["Value"] for pair in transformation["Dimensions"]}
            transformations.append(item)
        logs_backends[account_id][region_name].put_metric_filter(
            name, p["FilterPattern"], p["LogGroupName"], transformations
        )
        return cls(name, {"LogGroupName": p["LogGroupName"]})

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.logs.models import logs_backends

        logs_backends[account_id][region_name].delete_metric_filter(
            self._physical_id, self._attributes["LogGroupName"]
        )


MODELS: dict[str, type[_Model]] = {
    model.TYPE: model
    for model in (
        Alarm, EventInvokeConfig, Subscription, TopicPolicy, QueuePolicy, BucketPolicy, CdkMetadata,
        BucketNotifications, AutoDeleteObjects, HttpApi, HttpApiIntegration, HttpApiRoute, HttpApiStage,
        MetricFilter,
    )
}


class UnknownCustomResource(Exception):
    pass


class BucketNotEmpty(Exception):
    pass


class ResourceFailed(Exception):
    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}) could not be created: {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


__name__ = _MODULE_NAME  # noqa: A001


def install(skip: list[str]) -> None:
    models = {name: model for name, model in MODELS.items() if name not in skip}
    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type in models:
            return models[resource_type]
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            # moto would invoke the provider function (Docker only) and the stack would wait forever.
            raise UnknownCustomResource(
                f"deploy:local has no emulation of the custom resource type {resource_type}: add it to "
                "tools/deploy-local/moto_launcher.py (MODELS) and tools/deploy-local/coverage.ts"
            )
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type

    # A resource that cannot be created fails its stack: CREATE_FAILED, with the resource and the reason in the
    # stack's events (which the CDK CLI prints), instead of a 500 on CreateStack, which the CLI retries into "Stack
    # ... already exists". The stack then holds what was created before the failure, and nothing more: moto's lazy
    # resource map would otherwise try the failed resource again on every ListStackResources and DeleteStack.
    from moto.cloudformation.models import Event, Stack

    create_resource = parsing.parse_and_create_resource

    def create_resource_or_say_which(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return create_resource(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise
        except Exception as error:  # noqa: BLE001 - every cause is reported, with its type
            raise ResourceFailed(logical_id, resource_json.get("Type", "?"), f"{type(error).__name__}: {error}") from error

    parsing.parse_and_create_resource = create_resource_or_say_which

    create_resources = Stack.create_resources

    def create_resources_or_fail(self: Any) -> None:
        try:
            create_resources(self)
        except ResourceFailed as failure:
            resources = self.resource_map
            resources._resource_json_map = {
                logical_id: resource
                for logical_id, resource in resources._resource_json_map.items()
                if logical_id in resources._parsed_resources
            }
            # A failed stack has no outputs (they would name resources that were never created).
            self.output_map = parsing.OutputMap(resources, {**self.template_dict, "Outputs": {}}, self.stack_id)
            print(f"deploy:local: stack {self.name}: {failure}", file=sys.stderr, flush=True)
            self.events.append(
                Event(
                    stack_id=self.stack_id,
                    stack_name=self.name,
                    logical_resource_id=failure.logical_id,
                    physical_resource_id="",
                    resource_type=failure.resource_type,
                    resource_status="CREATE_FAILED",
                    resource_status_reason=failure.reason,
                    resource_properties=None,
                )
            )
            self.status = "CREATE_FAILED"
            self._add_stack_event("CREATE_FAILED", resource_status_reason=str(failure))

    Stack.create_resources = create_resources_or_fail  # type: ignore[method-assign]

    # moto evaluates a bucket policy without its conditions, so the TLS-only deny CDK writes on the bootstrap bucket
    # (and on this app's buckets) would deny every request, asset uploads included. Policies are stored and read
    # back; access is not decided by them here (nor by IAM: moto authorizes nothing by default).
    from moto.iam.access_control import PermissionResult

    FakeBucket.get_permission = lambda self, action, resource: PermissionResult.NEUTRAL  # type: ignore[method-assign]

    # moto 5.2 keeps the KeyPolicy of an AWS::KMS::Key from a template as a dict, and every later call on the key
    # that checks its policy (DescribeKey, Encrypt...) fails with a 500 (json.loads of a dict): store it as text.
    from moto.kms.models import Key

    create_key = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_key_with_text_policy(cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create_key(cls, resource_name, cloudformation_json, *args, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_key_with_text_policy)  # type: ignore[method-assign]

    # moto deletes a stack's resources in no particular order, and "deletes" a bucket that still holds objects by
    # leaving it in place. CloudFormation deletes the auto-delete resource (which depends on the bucket) first, and
    # fails on a bucket that is not empty: so here a non-empty bucket raises, and moto's delete loop tries it again
    # after the other resources (the auto-delete emptying it); a bucket nothing empties fails the destroy.
    delete_bucket = FakeBucket.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def delete_bucket_if_empty(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = s3_backends[account_id][_partition(region_name)]
        if resource_name in backend.buckets and backend.get_bucket(resource_name).keys:
            raise BucketNotEmpty(f"BucketNotEmpty: {resource_name} still holds objects")
        delete_bucket(cls, resource_name, cloudformation_json, account_id, region_name)

    FakeBucket.delete_from_cloudformation_json = classmethod(delete_bucket_if_empty)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--skip", action="append", default=[], help="leave this resource type's model out")
    args = parser.parse_args()
    unknown = [name for name in args.skip if name not in MODELS]
    if unknown:
        parser.error(f"--skip names no model: {', '.join(unknown)} (models: {', '.join(MODELS)})")
    install(args.skip)

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True)
    import os

    os.environ["MOTO_PORT"] = str(server.port)
    print(f"moto listening on http://{args.host}:{server.port}", flush=True)
    if args.skip:
        print(f"models left out (--skip): {', '.join(args.skip)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
