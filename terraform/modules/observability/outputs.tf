output "monitor_ids" {
  description = "Datadog monitor ids by name."
  value = {
    error_rate               = datadog_monitor.error_rate.id
    server_errors_by_route   = datadog_monitor.server_errors_by_route.id
    prediction_latency_miss  = datadog_monitor.prediction_latency_miss.id
    prediction_latency_hit   = datadog_monitor.prediction_latency_hit.id
    prediction_unavailable   = datadog_monitor.prediction_unavailable.id
    cache_hit_rate           = datadog_monitor.cache_hit_rate.id
    ingestion_failed         = datadog_monitor.ingestion_failed.id
    ingestion_stalled        = datadog_monitor.ingestion_stalled.id
    ingestion_budget_skipped = datadog_monitor.ingestion_budget_skipped.id
    provider_credits_low     = datadog_monitor.provider_credits_low.id
    unresolved_team_names    = datadog_monitor.unresolved_team_names.id
    prediction_dead_letters  = datadog_monitor.prediction_dead_letters.id
    rate_limit_refusals      = datadog_monitor.rate_limit_refusals.id
    model_behind_market      = datadog_monitor.model_behind_market.id
    telemetry_export_failed  = datadog_monitor.telemetry_export_failed.id
  }
}

output "dashboard_urls" {
  description = "Datadog dashboards (path on the Datadog site)."
  value = {
    api       = datadog_dashboard_json.api.url
    ingestion = datadog_dashboard_json.ingestion.url
  }
}

output "pagerduty_service_id" {
  description = "The PagerDuty service that pages, or null where pages go to the warning channel."
  value       = one(pagerduty_service.pages[*].id)
}
