# Monitors, dashboards and alert routing of one environment. The metric names, attributes and log fields in
# these queries are the ones the Worker emits: test/worker/observability-contract.test.ts drives the code that
# emits each of them and fails when a query here asks for something it does not emit. The alert table of
# docs/runbooks/observability.md is generated from this file (npm run docs:alerts), and every monitor links
# to its section there.
#
# Routing: a monitor's message names local.notify_page or local.notify_warn. "page" sends its alert state to
# PagerDuty and its warning state to the warning channel; "warn" sends both to the warning channel. Which
# monitor pages, and why, is in the runbook.

locals {
  # Metric scope: service.name and deployment.environment.name become the service and env tags in Datadog's
  # OTLP mapping. Log scope: the Logpush job sets service and env (docs/runbooks/observability.md).
  scope     = "service:${var.service},env:${var.environment}"
  log_scope = "service:${var.service} env:${var.environment}"

  pagerduty_service_name = "${var.service}-${var.environment}"
  page_target            = var.pagerduty_escalation_policy_id == null ? var.warning_channel : "@pagerduty-${local.pagerduty_service_name}"

  # Datadog message conditionals: the recovery goes where the alert went, so PagerDuty resolves its incident.
  notify_page = "{{#is_alert}}${local.page_target}{{/is_alert}}{{#is_alert_recovery}}${local.page_target}{{/is_alert_recovery}}{{#is_warning}}${var.warning_channel}{{/is_warning}}{{#is_warning_recovery}}${var.warning_channel}{{/is_warning_recovery}}"
  notify_warn = var.warning_channel

  tags = ["service:${var.service}", "env:${var.environment}", "managed_by:terraform"]

  prediction_route = "/matches/{matchId}/predictions"
  # The same route as a Datadog tag value: lowercased, characters a tag cannot hold turned into underscores.
  prediction_route_tag = "/matches/_matchid_/predictions"
}

# --- PagerDuty ------------------------------------------------------------------------------------------

data "pagerduty_vendor" "datadog" {
  count = var.pagerduty_escalation_policy_id == null ? 0 : 1
  name  = "Datadog"
}

resource "pagerduty_service" "pages" {
  count                   = var.pagerduty_escalation_policy_id == null ? 0 : 1
  name                    = local.pagerduty_service_name
  description             = "Senzu API (${var.environment}): pages from the Datadog monitors of terraform/modules/observability."
  escalation_policy       = var.pagerduty_escalation_policy_id
  auto_resolve_timeout    = "null"
  acknowledgement_timeout = 1800

  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }
}

resource "pagerduty_service_integration" "datadog" {
  count   = var.pagerduty_escalation_policy_id == null ? 0 : 1
  name    = "Datadog"
  service = pagerduty_service.pages[0].id
  vendor  = data.pagerduty_vendor.datadog[0].id
}

# Makes @pagerduty-<service>-<environment> a Datadog notification handle. The Datadog-PagerDuty integration
# itself is installed once per Datadog organisation, by hand (docs/runbooks/observability.md).
resource "datadog_integration_pagerduty_service_object" "pages" {
  count        = var.pagerduty_escalation_policy_id == null ? 0 : 1
  service_name = local.pagerduty_service_name
  service_key  = pagerduty_service_integration.datadog[0].integration_key
}

# --- Requests -------------------------------------------------------------------------------------------

resource "datadog_monitor" "error_rate" {
  name    = "[${var.environment}] Senzu API: 5xx above 1 % of requests"
  type    = "query alert"
  query   = "sum(last_5m):100 * sum:senzu.http.requests{${local.scope},http.response.status_class:5xx}.as_count() / sum:senzu.http.requests{${local.scope}}.as_count() > 1"
  message = <<-EOT
    {{value}} % of requests answered 5xx in the last 5 minutes. A 5xx is a bug or an outage of a dependency.
    Runbook: ${var.runbook_url}#error_rate
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 1
    warning  = 0.5
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "server_errors_by_route" {
  name    = "[${var.environment}] Senzu API: 5xx on {{http.route.name}}"
  type    = "query alert"
  query   = "sum(last_15m):sum:senzu.http.requests{${local.scope},http.response.status_class:5xx} by {http.route}.as_count() >= 5"
  message = <<-EOT
    {{value}} requests to {{http.route.name}} answered 5xx in the last 15 minutes.
    Runbook: ${var.runbook_url}#server_errors_by_route
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 5
    warning  = 1
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "prediction_latency_miss" {
  name    = "[${var.environment}] Senzu API: p95 of prediction cache misses"
  type    = "query alert"
  query   = "percentile(last_10m):p95:http.server.request.duration{${local.scope},http.route:${local.prediction_route_tag},cache.result:miss} > 1.5"
  message = <<-EOT
    The p95 of GET ${local.prediction_route} answered from a model run (cache miss) is {{value}} s.
    Runbook: ${var.runbook_url}#prediction_latency_miss
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 1.5
    warning  = 0.75
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "prediction_latency_hit" {
  name    = "[${var.environment}] Senzu API: p95 of prediction cache hits"
  type    = "query alert"
  query   = "percentile(last_10m):p95:http.server.request.duration{${local.scope},http.route:${local.prediction_route_tag},cache.result:hit} > 0.3"
  message = <<-EOT
    The p95 of GET ${local.prediction_route} answered from the KV cache is {{value}} s.
    Runbook: ${var.runbook_url}#prediction_latency_hit
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 0.3
    warning  = 0.15
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "prediction_unavailable" {
  name    = "[${var.environment}] Senzu API: predictions unavailable (503)"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @errorCode:unavailable @route:\\\"${local.prediction_route}\\\"\").index(\"*\").rollup(\"count\").last(\"5m\") >= 1"
  message = <<-EOT
    GET ${local.prediction_route} answered 503: the active model could not be loaded or run.
    Runbook: ${var.runbook_url}#prediction_unavailable
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 1
  }
  tags = local.tags
}

resource "datadog_monitor" "rate_limit_refusals" {
  name    = "[${var.environment}] Senzu API: rate-limit refusals ({{tier.name}})"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @errorCode:rate-limited\").index(\"*\").rollup(\"count\").by(\"@tier\").last(\"10m\") > 500"
  message = <<-EOT
    {{value}} requests of tier {{tier.name}} were refused with 429 in 10 minutes.
    Runbook: ${var.runbook_url}#rate_limit_refusals
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 500
    warning  = 200
  }
  tags = local.tags
}

# --- Prediction cache -----------------------------------------------------------------------------------

# Two components that notify no one, and the composite that does: the hit rate is judged only while there
# is traffic (match hours), since outside them a few misses are the whole window.
resource "datadog_monitor" "cache_hit_rate_low" {
  name    = "[${var.environment}] component: prediction cache hit rate below 80 %"
  type    = "query alert"
  query   = "sum(last_30m):100 * sum:senzu.prediction.cache.lookups{${local.scope},cache.result:hit}.as_count() / sum:senzu.prediction.cache.lookups{${local.scope}}.as_count() < 80"
  message = "Component of the cache hit rate monitor; notifies no one."

  monitor_thresholds {
    critical = 80
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "cache_lookup_volume" {
  name    = "[${var.environment}] component: prediction cache lookups in match hours"
  type    = "query alert"
  query   = "sum(last_30m):sum:senzu.prediction.cache.lookups{${local.scope}}.as_count() > ${var.cache_hit_rate_min_lookups}"
  message = "Component of the cache hit rate monitor; notifies no one."

  monitor_thresholds {
    critical = var.cache_hit_rate_min_lookups
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "cache_hit_rate" {
  name    = "[${var.environment}] Senzu API: prediction cache hit rate below 80 % in match hours"
  type    = "composite"
  query   = "${datadog_monitor.cache_hit_rate_low.id} && ${datadog_monitor.cache_lookup_volume.id}"
  message = <<-EOT
    Fewer than 80 % of prediction lookups were cache hits in the last 30 minutes, with more than ${var.cache_hit_rate_min_lookups} lookups.
    Runbook: ${var.runbook_url}#cache_hit_rate
    ${local.notify_warn}
  EOT
  tags    = local.tags
}

# --- Ingestion ------------------------------------------------------------------------------------------

resource "datadog_monitor" "ingestion_failed" {
  name    = "[${var.environment}] Senzu ingestion: {{job.kind.name}} job failed"
  type    = "query alert"
  query   = "sum(last_15m):sum:senzu.ingestion.jobs{${local.scope},job.status:failed} by {job.kind}.as_count() >= 3"
  message = <<-EOT
    {{value}} runs of the {{job.kind.name}} job failed in 15 minutes. The job rows (GET /admin/ingestion/jobs?status=failed) say why.
    Runbook: ${var.runbook_url}#ingestion_failed
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 3
    warning  = 1
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "ingestion_stalled" {
  name    = "[${var.environment}] Senzu ingestion: the odds cron has not run"
  type    = "query alert"
  query   = "sum(last_30m):sum:senzu.ingestion.jobs{${local.scope},job.kind:odds}.as_count() < 1"
  message = <<-EOT
    No odds job ran (succeeded, skipped or failed) in 30 minutes: the */5 Cron Trigger is not firing or the Worker cannot record jobs.
    Runbook: ${var.runbook_url}#ingestion_stalled
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 1
  }
  # A cron that does not run reports nothing at all: no data is the alert.
  notify_no_data      = true
  no_data_timeframe   = 30
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "ingestion_budget_skipped" {
  name    = "[${var.environment}] Senzu ingestion: odds polls skipped for budget"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @kind:odds @budgetAllowance:*\").index(\"*\").rollup(\"count\").last(\"1h\") > 0"
  message = <<-EOT
    The odds job skipped {{value}} polls in the last hour because the month's credit budget allowed no more.
    Runbook: ${var.runbook_url}#ingestion_budget_skipped
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 0
  }
  tags = local.tags
}

resource "datadog_monitor" "provider_credits_low" {
  name    = "[${var.environment}] Senzu ingestion: {{provider.name}} credits low"
  type    = "query alert"
  query   = "min(last_1h):min:senzu.provider.credits_remaining{${local.scope}} by {provider} < ${var.provider_monthly_credits * 0.05}"
  message = <<-EOT
    {{provider.name}} reports {{value}} credits left this month.
    Runbook: ${var.runbook_url}#provider_credits_low
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = var.provider_monthly_credits * 0.05
    warning  = var.provider_monthly_credits * 0.2
  }
  require_full_window = false
  tags                = local.tags
}

resource "datadog_monitor" "unresolved_team_names" {
  name    = "[${var.environment}] Senzu ingestion: unresolved team names"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @unresolved:>0\").index(\"*\").rollup(\"count\").by(\"@kind\").last(\"2h\") > 0"
  message = <<-EOT
    The {{kind.name}} job skipped fixtures whose team names have no alias (table unresolved_team_names).
    Runbook: ${var.runbook_url}#unresolved_team_names
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 0
  }
  tags = local.tags
}

resource "datadog_monitor" "prediction_dead_letters" {
  name    = "[${var.environment}] Senzu API: predictions dead-lettered"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @errorCode:prediction-write-failed @attempts:>${var.prediction_queue_max_retries}\").index(\"*\").rollup(\"count\").last(\"15m\") > 0"
  message = <<-EOT
    {{value}} prediction writes failed on their last attempt and went to the dead-letter queue senzu-prediction-writes-dlq.
    Runbook: ${var.runbook_url}#prediction_dead_letters
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 0
  }
  tags = local.tags
}

# --- Models ---------------------------------------------------------------------------------------------

resource "datadog_monitor" "model_behind_market" {
  name    = "[${var.environment}] Senzu models: {{modelRunId.name}} behind the market on {{market.name}}"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @code:model_behind_market\").index(\"*\").rollup(\"count\").by(\"@modelRunId,@market\").last(\"1d\") > 0"
  message = <<-EOT
    The daily settlement found the rolling live log loss of model run {{modelRunId.name}} worse than the market's on {{market.name}}.
    Runbook: ${var.runbook_url}#model_behind_market
    ${local.notify_page}
  EOT

  monitor_thresholds {
    critical = 0
  }
  tags = local.tags
}

# --- Telemetry ------------------------------------------------------------------------------------------

resource "datadog_monitor" "telemetry_export_failed" {
  name    = "[${var.environment}] Senzu API: OTLP export failing"
  type    = "log alert"
  query   = "logs(\"${local.log_scope} @errorCode:telemetry-export-failed\").index(\"*\").rollup(\"count\").last(\"15m\") > 10"
  message = <<-EOT
    {{value}} OTLP exports failed in 15 minutes: the metric monitors above are blind while this lasts.
    Runbook: ${var.runbook_url}#telemetry_export_failed
    ${local.notify_warn}
  EOT

  monitor_thresholds {
    critical = 10
  }
  tags = local.tags
}

# --- Dashboards -----------------------------------------------------------------------------------------

resource "datadog_dashboard_json" "api" {
  dashboard = templatefile("${path.module}/dashboards/api.json.tftpl", {
    service                      = var.service
    environment                  = var.environment
    prediction_queue_max_retries = var.prediction_queue_max_retries
  })
}

resource "datadog_dashboard_json" "ingestion" {
  dashboard = templatefile("${path.module}/dashboards/ingestion.json.tftpl", { service = var.service, environment = var.environment })
}
