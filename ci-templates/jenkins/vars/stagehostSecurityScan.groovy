// stagehostSecurityScan(config: ...): the security-scan stage through the stagehost step; same arguments minus 'stage'.

def call(Map args = [:]) {
  return stagehost(args + [stage: 'security-scan'])
}
