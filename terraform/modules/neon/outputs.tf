output "project_id" {
  description = "Neon project id."
  value       = neon_project.this.id
}

output "branch_id" {
  description = "Id of the application branch."
  value       = neon_branch.app.id
}

output "host" {
  description = "Hostname of the branch's read-write endpoint."
  value       = neon_endpoint.app.host
}

output "database_url" {
  description = "Direct postgres:// connection string of the application role: the GitHub environment secret DATABASE_URL (migrations, the archive workflow, CLIs)."
  value       = "postgresql://${neon_role.app.name}:${urlencode(neon_role.app.password)}@${neon_endpoint.app.host}/${neon_database.app.name}?sslmode=require"
  sensitive   = true
}

# The Worker opens a connection per request that touches Postgres (a Worker cannot keep sockets between
# requests). Through Neon's PgBouncer (the -pooler host) that is a pooled client, not a new Postgres backend
# each time: bench:predictions measured a miss at 8.99x the no-op route against a bare server and 3.36x behind
# a transaction-mode PgBouncer (docs/benchmarks.md). The Worker uses no session state, so transaction pooling
# is safe for it; migrations keep the direct URL.
output "database_url_pooled" {
  description = "Pooled postgres:// connection string (the endpoint's -pooler host): the Worker secret DATABASE_URL."
  value       = "postgresql://${neon_role.app.name}:${urlencode(neon_role.app.password)}@${replace(neon_endpoint.app.host, "/^([^.]+)\\./", "$1-pooler.")}/${neon_database.app.name}?sslmode=require"
  sensitive   = true
}
