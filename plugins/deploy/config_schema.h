// config_schema.h -- the JSON Schema of the deploy configuration (the key reference).
#pragma once

namespace stagehost::deploy {

// Every object is closed (additionalProperties false); defaults are applied by ParseConfig.
inline constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "deploy configuration",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "mode": {"description": "deploy: publish, attest, verify, roll out. publish: publish and attest only. verify: check a provenance envelope against the artifacts. rollout: verify the given provenance, then roll out (the artifacts were published earlier).", "enum": ["deploy", "publish", "verify", "rollout"], "default": "deploy"},
    "name": {"description": "Package name: the store path prefix of this model/service.", "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "default": "model"},
    "version": {"description": "Version to release. Default: CI_COMMIT_TAG, else CI_COMMIT_SHORT_SHA, else the first 12 hex digits of the first artifact's SHA-256.", "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._+-]*$"},
    "environment": {"description": "Target environment name (state file, record, dotenv).", "type": "string", "minLength": 1, "default": "production"},
    "url": {"description": "The environment's URL, written to the dotenv as DYNAMIC_ENVIRONMENT_URL. Placeholders: {version}, {environment}.", "type": "string"},
    "artifacts": {"description": "Files to publish and attest, relative to the workspace.", "type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    "require_protected_ref": {"description": "Refuse to deploy unless CI_COMMIT_REF_PROTECTED is \"true\".", "type": "boolean", "default": true},
    "state_file": {"description": "State file of the target (phase of the current rollout, live version). Relative paths are relative to the workspace. Default: .stagehost/deploy-<environment>.json.", "type": "string", "minLength": 1},
    "on_unfinished": {"description": "When the state file shows a rollout that never finished: refuse (stage fails, nothing touched) or rollback (restore the recorded previous version, then deploy).", "enum": ["refuse", "rollback"], "default": "refuse"},
    "publish": {
      "description": "Where the artifacts go. Objects are content-addressed: <prefix>/<name>/sha256/<digest>/<file>; the release manifest is <prefix>/<name>/versions/<version>.json and is never overwritten with other content.",
      "type": "object", "additionalProperties": false, "required": ["store"],
      "properties": {
        "store": {"description": "s3, http (Artifactory/Nexus raw PUT) or directory (local/NFS).", "enum": ["s3", "http", "directory"]},
        "prefix": {"description": "Path prefix inside the store.", "type": "string", "default": ""},
        "s3": {"type": "object", "additionalProperties": false, "required": ["endpoint", "bucket"],
          "description": "S3-compatible store (path-style requests, Signature V4).",
          "properties": {
            "endpoint": {"description": "e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000", "type": "string", "pattern": "^https?://"},
            "bucket": {"type": "string", "minLength": 1, "description": "Bucket name."},
            "region": {"type": "string", "default": "us-east-1", "description": "Signing region."},
            "access_key_id_variable": {"type": "string", "default": "AWS_ACCESS_KEY_ID", "description": "Name of the variable holding the access key id."},
            "secret_access_key_variable": {"type": "string", "default": "AWS_SECRET_ACCESS_KEY", "description": "Name of the variable holding the secret key."},
            "session_token_variable": {"type": "string", "description": "Name of the variable holding a session token (optional)."},
            "part_size_mib": {"type": "integer", "minimum": 5, "maximum": 5120, "default": 16, "description": "Multipart part size; raised automatically so a file needs at most 10,000 parts."},
            "multipart_threshold_mib": {"type": "integer", "minimum": 5, "default": 64, "description": "Files at least this big use multipart upload."},
            "parallel_parts": {"type": "integer", "minimum": 1, "maximum": 16, "default": 4, "description": "Parts uploaded at once."}
          }},
        "http": {"type": "object", "additionalProperties": false, "required": ["url"],
          "description": "HTTP repository accepting PUT (Artifactory, Nexus raw, WebDAV).",
          "properties": {
            "url": {"type": "string", "pattern": "^https?://", "description": "Base URL; object paths are appended."},
            "username_variable": {"type": "string", "description": "Variable holding the basic-auth user."},
            "password_variable": {"type": "string", "description": "Variable holding the basic-auth password."},
            "token_variable": {"type": "string", "description": "Variable holding a bearer token."},
            "checksum_headers": {"type": "boolean", "default": true, "description": "Send X-Checksum-Sha256 so servers that support it verify the upload."},
            "read_back": {"type": "boolean", "default": true, "description": "GET every uploaded object and compare its SHA-256 (for servers that take no checksum headers)."}
          }},
        "directory": {"type": "object", "additionalProperties": false, "required": ["path"],
          "description": "A local or NFS directory; files appear atomically (write then rename).",
          "properties": {"path": {"type": "string", "minLength": 1, "description": "Absolute, or relative to the workspace."}}}
      }
    },
    "signing": {
      "description": "Attestation: an in-toto Statement v1 with a SLSA provenance v1 predicate in a DSSE envelope, signed with Ed25519.",
      "type": "object", "additionalProperties": false, "required": ["key_variable"],
      "properties": {
        "key_variable": {"type": "string", "minLength": 1, "description": "Name of the variable holding the Ed25519 private key: PEM text, or a path to a PEM file."},
        "build_type": {"type": "string", "default": "https://stagehost.dev/deploy/v1", "description": "SLSA buildDefinition.buildType."}
      }
    },
    "verify": {
      "description": "What verify checks (verify and rollout modes; in deploy mode the envelope made in this run).",
      "type": "object", "additionalProperties": false,
      "properties": {
        "provenance": {"type": "string", "description": "DSSE envelope (JSON) to check, relative to the workspace."},
        "public_key_variable": {"type": "string", "description": "Variable holding the Ed25519 public key (PEM text or path). Default: derived from signing.key_variable."}
      }
    },
    "rollout": {
      "type": "object", "additionalProperties": false, "required": ["driver"],
      "description": "How the new version takes traffic.",
      "properties": {
        "driver": {"enum": ["nginx", "command"], "description": "nginx: rewrite an upstream file and reload; command: your argv templates."},
        "strategy": {"enum": ["direct", "blue-green", "canary"], "default": "direct", "description": "direct: switch at once, then analyse. blue-green: pre-switch checks on the idle slot, switch, analyse. canary: weight steps, analysis at each."},
        "steps": {"type": "array", "minItems": 1, "description": "Canary steps; the last must reach weight 100.",
          "items": {"type": "object", "additionalProperties": false, "required": ["weight"],
            "properties": {
              "weight": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Percent of traffic to the new version."},
              "pause_seconds": {"type": "number", "minimum": 0, "default": 0, "description": "Wait before this step's analysis."}}}},
        "pre_switch_checks": {"type": "array", "description": "Blue-green: health checks against the idle slot before traffic moves (URLs may use {candidate_address}).", "items": {"$ref": "#/definitions/health_check"}},
        "command_timeout_seconds": {"type": "number", "minimum": 1, "default": 300, "description": "Limit for each driver command."},
        "nginx": {"type": "object", "additionalProperties": false, "required": ["upstream_file", "blue", "green"],
          "properties": {
            "upstream_file": {"type": "string", "description": "File holding the upstream block, included by nginx.conf; rewritten atomically."},
            "upstream_name": {"type": "string", "default": "stagehost_backend", "description": "Name of the upstream block."},
            "blue": {"type": "string", "description": "host:port of the blue slot."},
            "green": {"type": "string", "description": "host:port of the green slot."},
            "reload_command": {"type": "array", "items": {"type": "string"}, "minItems": 1, "default": ["nginx", "-s", "reload"], "description": "argv that reloads nginx."},
            "test_command": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "argv that checks the configuration before a reload (e.g. nginx -t); the old file is restored if it fails."},
            "apply_command": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "argv that installs {version} on {slot} ({address}) before it gets traffic."},
            "settle_seconds": {"type": "number", "minimum": 0, "default": 0.5, "description": "Wait after a reload for old workers to drain."},
            "confirm_url": {"type": "string", "description": "GET after each reload; must answer 2xx."}
          }},
        "command": {"type": "object", "additionalProperties": false, "required": ["apply", "rollback"],
          "description": "argv templates, run without a shell. Placeholders: {version} {previous_version} {environment} {weight} {stable_weight} {digest} {artifact_url}.",
          "properties": {
            "apply": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "set_weight": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "promote": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "rollback": {"type": "array", "items": {"type": "string"}, "minItems": 1}
          }}
      }
    },
    "analysis": {
      "type": "object", "additionalProperties": false,
      "description": "Measured at every step (after the switch for direct and blue-green).",
      "properties": {
        "prometheus_url": {"type": "string", "pattern": "^https?://", "description": "Prometheus base URL (instant queries, /api/v1/query)."},
        "interval_seconds": {"type": "number", "minimum": 0, "default": 5, "description": "Time between measurements."},
        "count": {"type": "integer", "minimum": 1, "default": 3, "description": "Measurements per step."},
        "failure_limit": {"type": "integer", "minimum": 0, "default": 0, "description": "Failed measurements tolerated per check and step; one more is a breach."},
        "inconclusive_limit": {"type": "integer", "minimum": 0, "default": 1, "description": "Inconclusive measurements (no data, NaN, unreachable Prometheus) tolerated per check and step."},
        "on_inconclusive": {"enum": ["rollback", "continue"], "default": "rollback", "description": "What exceeding inconclusive_limit means: a breach (rollback) or a warning (continue)."},
        "health_checks": {"type": "array", "items": {"$ref": "#/definitions/health_check"}},
        "metrics": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name", "query", "condition"],
          "properties": {
            "name": {"type": "string", "minLength": 1},
            "query": {"type": "string", "minLength": 1, "description": "PromQL; {version} and {previous_version} are substituted."},
            "condition": {"type": "string", "description": "e.g. \"result < 0.01\"; clauses joined by &&. Every series of a vector must satisfy it."}}}}
      }
    }
  },
  "definitions": {
    "health_check": {"type": "object", "additionalProperties": false, "required": ["url"],
      "properties": {
        "name": {"type": "string"},
        "url": {"type": "string", "description": "GET target; placeholders {version}, {candidate_address}, {stable_address}."},
        "expect_status": {"type": "integer", "default": 200},
        "body_contains": {"type": "string", "description": "Text the body must contain."},
        "timeout_seconds": {"type": "number", "minimum": 0.1, "default": 2}
      }}
  }
})json";

}  // namespace stagehost::deploy
