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
  description = "postgres:// connection string of the application role: the Worker secret DATABASE_URL and the GitHub environment secret DATABASE_URL."
  value       = "postgresql://${neon_role.app.name}:${urlencode(neon_role.app.password)}@${neon_endpoint.app.host}/${neon_database.app.name}?sslmode=require"
  sensitive   = true
}
