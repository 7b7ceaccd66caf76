// stagehost(stage: ..., config: ...): runs one stagehost stage through `sh` and publishes its
// reports (JUnit, SARIF, archived files) so Jenkins shows them natively.

/**
 * Named arguments:
 *   stage          (required) stage type or plugin name: unit-test, model-validation,
 *                  security-scan, deploy
 *   config         config file in the workspace, or inline JSON/YAML (STAGEHOST_CONFIG)
 *   plugin         plugin name when several implement the stage
 *   set            map of config overrides, passed as --set KEY=VALUE
 *   reports        report directory (default: stagehost-reports/<stage> in the workspace)
 *   timeout        seconds before stagehost stops the stage (0 = none)
 *   binary         stagehost executable (default: 'stagehost' on PATH, or $STAGEHOST_BIN)
 *   failedResult   build result when the stage fails its checks (exit 1): 'UNSTABLE'
 *                  (default) or 'FAILURE'
 *   archive        archive the report directory (default true)
 *   qualityGates   passed to recordIssues for SARIF findings (default none)
 * Returns the exit status: 0 passed, 1 stage failed, 2 system failure (which also fails the
 * build with an error).
 */
def call(Map args = [:]) {
  if (!args.stage) {
    error "stagehost: the 'stage' argument is required (unit-test, model-validation, security-scan, deploy)"
  }
  String stage = args.stage.toString()
  String reports = args.reports ?: "stagehost-reports/${stage}"
  String binary = args.binary ?: (env.STAGEHOST_BIN ?: 'stagehost')
  String failedResult = args.failedResult ?: 'UNSTABLE'

  List<String> command = [binary, 'run', stage, '--artifacts', reports]
  if (args.plugin) {
    command += ['--plugin', args.plugin.toString()]
  }
  if (args.config) {
    command += ['--config', args.config.toString()]
  }
  (args.set ?: [:]).each { key, value -> command += ['--set', "${key}=${value}".toString()] }
  if (args.timeout) {
    command += ['--timeout', args.timeout.toString()]
  }

  int status = sh(script: command.collect { shellQuote(it) }.join(' '), returnStatus: true)

  publishReports(stage, reports, args)

  if (status == 1) {
    String message = "stagehost ${stage}: the stage failed its checks (exit 1)"
    if (failedResult == 'FAILURE') {
      error message
    }
    unstable message
  } else if (status != 0) {
    error "stagehost ${stage}: no verdict, system failure (exit ${status}); see the log above"
  }
  return status
}

// JUnit and SARIF are published when present; everything in the report directory is archived.
// Presence is checked with `find` so the library needs no plugin beyond junit and warnings-ng.
private void publishReports(String stage, String reports, Map args) {
  if (hasFiles(reports, '*.xml')) {
    junit testResults: "${reports}/**/*.xml", allowEmptyResults: true
  }
  if (hasFiles(reports, '*.sarif')) {
    Map options = [tools: [sarif(pattern: "${reports}/**/*.sarif", id: "stagehost-${stage}",
                                 name: "stagehost ${stage}")],
                   enabledForFailure: true]
    if (args.qualityGates) {
      options.qualityGates = args.qualityGates
    }
    recordIssues(options)
  }
  if (args.archive != false) {
    archiveArtifacts artifacts: "${reports}/**", allowEmptyArchive: true, fingerprint: true
  }
}

private boolean hasFiles(String dir, String pattern) {
  String script = "find ${shellQuote(dir)} -type f -name ${shellQuote(pattern)} 2>/dev/null | grep -q ."
  return sh(script: script, returnStatus: true) == 0
}

// POSIX single quotes: nothing inside is expanded by the shell.
private String shellQuote(String word) {
  return "'" + word.replace("'", "'\"'\"'") + "'"
}
