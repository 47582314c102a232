# One Neon project per environment: a branch for the application with its own read-write endpoint, a
# role and a database owned by it. The connection string is an output; it becomes the Worker secret
# DATABASE_URL (docs/deploy.md), so it never sits in the Worker script resource or in wrangler.toml.

resource "neon_project" "this" {
  name                      = var.project_name
  region_id                 = var.region_id
  pg_version                = var.pg_version
  history_retention_seconds = var.history_retention_seconds
}

resource "neon_branch" "app" {
  project_id = neon_project.this.id
  parent_id  = neon_project.this.default_branch_id
  name       = var.branch_name
}

resource "neon_endpoint" "app" {
  project_id               = neon_project.this.id
  branch_id                = neon_branch.app.id
  type                     = "read_write"
  autoscaling_limit_min_cu = 0.25
  autoscaling_limit_max_cu = var.autoscaling_max_cu
}

# Roles and databases are created through the branch's compute, so they wait for the endpoint.
resource "neon_role" "app" {
  project_id = neon_project.this.id
  branch_id  = neon_branch.app.id
  name       = var.role_name
  depends_on = [neon_endpoint.app]
}

resource "neon_database" "app" {
  project_id = neon_project.this.id
  branch_id  = neon_branch.app.id
  name       = var.database_name
  owner_name = neon_role.app.name
}
